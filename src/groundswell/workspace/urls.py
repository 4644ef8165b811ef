"""The staff workspace, under /staff/: signing in, petitions, lists, imports, the team
and the audit log."""

from django.urls import include, path

from groundswell.workspace import (
    audit,
    comments,
    exports,
    imports,
    lists,
    petitions,
    signin,
    team,
    trending,
    trust,
    views,
)

app_name = "workspace"

# Everything staff see and do for one petition, under petitions/<slug>/.
petition_pages = [
    path("", views.petition_dashboard, name="petition"),
    path("edit/", petitions.petition_edit, name="petition-edit"),
    path("preview/", petitions.petition_preview, name="petition-preview"),
    path("status/", petitions.petition_status, name="petition-status"),
    path("signing/", petitions.petition_signing, name="petition-signing"),
    path("updates/", petitions.petition_update, name="petition-update"),
    path(
        "updates/<int:update_id>/mailing/",
        petitions.petition_update_mailing,
        name="petition-update-mailing",
    ),
    path("trust/", trust.trust, name="petition-trust"),
    path("trust/invalidate/", trust.invalidate, name="petition-trust-invalidate"),
    path("trust/batches/<int:batch_id>/undo/", trust.undo, name="petition-trust-undo"),
    path("stats.json", views.petition_stats, name="petition-stats"),
    path("comments/<int:signature_id>/hide/", comments.hide_comment, name="comment-hide"),
    path("signatures.<str:fmt>", exports.petition_signatures, name="petition-signatures"),
    path("delivery.pdf", exports.delivery_pdf, name="delivery-pdf"),
    path("delivery.csv", exports.delivery_csv, name="delivery-csv"),
]

# One import's report page and what it fetches, under imports/<id>/.
import_pages = [
    path("", imports.import_detail, name="import"),
    path("progress.json", imports.import_progress, name="import-progress"),
    path("refused.csv", imports.import_rejected, name="import-refused"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("audit/", audit.audit_log, name="audit"),
    path("team/", team.team, name="team"),
    path("team/<slug:org_slug>/grant/", team.grant, name="team-grant"),
    path("team/<slug:org_slug>/remove/", team.remove, name="team-remove"),
    path("login/", signin.sign_in, name="sign-in"),
    path("logout/", signin.sign_out, name="sign-out"),
    path("petitions/new/", petitions.petition_new, name="petition-new"),
    path("petitions/<slug:slug>/", include(petition_pages)),
    path("trending/", trending.trending, name="trending"),
    path("lists/", lists.lists, name="lists"),
    path("lists/<int:list_id>/add/", lists.add_person, name="list-add"),
    path("lists/<int:list_id>/people.csv", exports.list_people, name="list-people"),
    path("imports/", imports.imports, name="imports"),
    path("imports/<int:import_id>/", include(import_pages)),
]
