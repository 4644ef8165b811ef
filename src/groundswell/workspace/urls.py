from django.urls import path

from groundswell.workspace import audit, exports, signin, team, views

app_name = "workspace"

urlpatterns = [
    path("", views.home, name="home"),
    path("audit/", audit.audit_log, name="audit"),
    path("team/", team.team, name="team"),
    path("team/<slug:org_slug>/grant/", team.grant, name="team-grant"),
    path("team/<slug:org_slug>/remove/", team.remove, name="team-remove"),
    path("login/", signin.sign_in, name="sign-in"),
    path("logout/", signin.sign_out, name="sign-out"),
    path("petitions/<slug:slug>/", views.petition_dashboard, name="petition"),
    path("petitions/<slug:slug>/stats.json", views.petition_stats, name="petition-stats"),
    path(
        "petitions/<slug:slug>/signatures.<str:fmt>",
        exports.petition_signatures,
        name="petition-signatures",
    ),
    path("petitions/<slug:slug>/delivery.pdf", exports.delivery_pdf, name="delivery-pdf"),
    path("petitions/<slug:slug>/delivery.csv", exports.delivery_csv, name="delivery-csv"),
    path("lists/<int:list_id>/people.csv", exports.list_people, name="list-people"),
]
