from django.urls import path

from . import progress, unknown_views, views

app_name = "mailings"

urlpatterns = [
    path("<int:mailing_id>/progress.json", progress.progress_json, name="progress"),
]

# --- Compose pages ----------------------------------------------------------------
urlpatterns += [
    path("", views.mailing_list, name="list"),
    path("switch/", views.sending_switch, name="switch"),
    path("new/", views.mailing_create, name="create"),
    path("<int:mailing_id>/", views.mailing_detail, name="detail"),
    path("<int:mailing_id>/edit/", views.mailing_edit, name="edit"),
    path("<int:mailing_id>/preview/", views.mailing_preview, name="preview"),
    path("<int:mailing_id>/preview/html/", views.mailing_preview_html, name="preview-html"),
    path("<int:mailing_id>/test/", views.mailing_test_send, name="test-send"),
    path("<int:mailing_id>/send/", views.mailing_send, name="send"),
    path("<int:mailing_id>/schedule/", views.mailing_schedule, name="schedule"),
    path("<int:mailing_id>/unschedule/", views.mailing_unschedule, name="unschedule"),
    path("<int:mailing_id>/pause/", views.mailing_pause, name="pause"),
    path("<int:mailing_id>/resume/", views.mailing_resume, name="resume"),
    path("<int:mailing_id>/cancel/", views.mailing_cancel, name="cancel"),
    path("<int:mailing_id>/unknown/", unknown_views.mailing_unknown, name="unknown"),
    path("<int:mailing_id>/unknown/sent/", unknown_views.mailing_unknown_sent, name="unknown-sent"),
    path(
        "<int:mailing_id>/unknown/again/", unknown_views.mailing_unknown_again, name="unknown-again"
    ),
]
