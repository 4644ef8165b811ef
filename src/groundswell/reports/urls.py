from django.urls import path

from groundswell.reports import views

app_name = "reports"

urlpatterns = [
    path("mailings/<int:mailing_id>/", views.mailing, name="mailing"),
    path("mailings/<int:mailing_id>/csv/", views.mailing_csv, name="mailing-csv"),
]
