"""The public web version of sent mailings: /mail/<id>-<tag>/."""

from django.urls import path

from groundswell.mailings.web_version import web_version

urlpatterns = [
    path("<int:mailing_id>-<str:tag>/", web_version, name="mailing-web-version"),
]
