"""The public web version of sent mailings: /mail/<id>-<tag>/."""

from django.urls import path

from groundswell.mailings import views

urlpatterns = [
    path("<int:mailing_id>-<str:tag>/", views.web_version, name="mailing-web-version"),
]
