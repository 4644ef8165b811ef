from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic.base import RedirectView

from groundswell.bounces.webhooks import usable_webhooks
from groundswell.orgs.access import administrators_only, is_administrator
from groundswell.workspace import twofactor
from groundswell.workspace.signin import admin_sign_in

admin.site.site_header = "Groundswell staff"
admin.site.site_title = "Groundswell"
admin.site.index_title = "Campaigns, people and consent"
admin.site.index_template = "admin/groundswell_index.html"
# The admin is for installation administrators, who sign in through the staff sign-in.
admin.site.has_permission = lambda request: is_administrator(request.user)  # type: ignore[method-assign]
admin.site.login = admin_sign_in  # type: ignore[method-assign]
admin.site.admin_view = administrators_only(admin.site.admin_view)  # type: ignore[method-assign]

urlpatterns = [
    # First: the public petition pages and the mailings' tracked links take nearly all
    # the traffic, and Django tries patterns in order.
    path("", include("groundswell.petitions.urls")),
    path("", include("groundswell.tracking.urls")),
    path("admin/", admin.site.urls),
    path("staff/reports/", include("groundswell.reports.urls")),
    path("staff/mailings/", include("groundswell.mailings.urls")),
    path("staff/", include((twofactor.twofactor_urls, "twofactor"))),
    path("staff/", include("groundswell.workspace.urls")),
    path("mail/", include("groundswell.mailings.public_urls")),
    path("webhooks/anymail/", include(usable_webhooks())),
    path("", include("groundswell.members.urls")),
    # Asked for by browsers on pages that name no icon (the Django admin's).
    path("favicon.ico", RedirectView.as_view(url=f"{settings.STATIC_URL}favicon.svg")),
]

if settings.DEMO_MODE:
    # The demo's caught mail: a real installation's outgoing mail is not for staff to
    # browse, so the viewer exists only there.
    urlpatterns.insert(2, path("staff/mailbox/", include("groundswell.mailbox.urls")))

if settings.BENCH_ENDPOINTS:
    urlpatterns.insert(0, path("bench/", include("groundswell.benchsupport.urls")))
