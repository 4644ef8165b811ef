from django.urls import path

from . import progress

app_name = "mailings"

urlpatterns = [
    path("<int:mailing_id>/progress.json", progress.progress_json, name="progress"),
]
