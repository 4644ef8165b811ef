from django.urls import path

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

urlpatterns = [
    path("", views.home, name="home"),
    path("audit/", audit.audit_log, name="audit"),
    path("team/", team.team, name="team"),
    path("team/<slug:org_slug>/grant/", team.grant, name="team-grant"),
    path("team/<slug:org_slug>/remove/", team.remove, name="team-remove"),
    path("login/", signin.sign_in, name="sign-in"),
    path("logout/", signin.sign_out, name="sign-out"),
    path("petitions/new/", petitions.petition_new, name="petition-new"),
    path("petitions/<slug:slug>/", views.petition_dashboard, name="petition"),
    path("petitions/<slug:slug>/edit/", petitions.petition_edit, name="petition-edit"),
    path("petitions/<slug:slug>/preview/", petitions.petition_preview, name="petition-preview"),
    path("petitions/<slug:slug>/status/", petitions.petition_status, name="petition-status"),
    path("petitions/<slug:slug>/signing/", petitions.petition_signing, name="petition-signing"),
    path("petitions/<slug:slug>/updates/", petitions.petition_update, name="petition-update"),
    path(
        "petitions/<slug:slug>/updates/<int:update_id>/mailing/",
        petitions.petition_update_mailing,
        name="petition-update-mailing",
    ),
    path("petitions/<slug:slug>/trust/", trust.trust, name="petition-trust"),
    path(
        "petitions/<slug:slug>/trust/invalidate/",
        trust.invalidate,
        name="petition-trust-invalidate",
    ),
    path(
        "petitions/<slug:slug>/trust/batches/<int:batch_id>/undo/",
        trust.undo,
        name="petition-trust-undo",
    ),
    path("trending/", trending.trending, name="trending"),
    path("petitions/<slug:slug>/stats.json", views.petition_stats, name="petition-stats"),
    path(
        "petitions/<slug:slug>/comments/<int:signature_id>/hide/",
        comments.hide_comment,
        name="comment-hide",
    ),
    path(
        "petitions/<slug:slug>/signatures.<str:fmt>",
        exports.petition_signatures,
        name="petition-signatures",
    ),
    path("petitions/<slug:slug>/delivery.pdf", exports.delivery_pdf, name="delivery-pdf"),
    path("petitions/<slug:slug>/delivery.csv", exports.delivery_csv, name="delivery-csv"),
    path("lists/", lists.lists, name="lists"),
    path("imports/", imports.imports, name="imports"),
    path("imports/<int:import_id>/", imports.import_detail, name="import"),
    path("imports/<int:import_id>/progress.json", imports.import_progress, name="import-progress"),
    path("imports/<int:import_id>/refused.csv", imports.import_rejected, name="import-refused"),
    path("lists/<int:list_id>/add/", lists.add_person, name="list-add"),
    path("lists/<int:list_id>/people.csv", exports.list_people, name="list-people"),
]
