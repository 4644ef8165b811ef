from django.urls import path

from groundswell.petitions import confirm_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("sign/<slug:slug>/", views.petition_page, name="petition"),
    path("sign/<slug:slug>/thanks/", views.thanks, name="petition-thanks"),
    path("sign/<slug:slug>/not-me/", views.forget_member, name="petition-forget-member"),
    path("sign/<slug:slug>.json", views.petition_json, name="petition-json"),
    path("sign/<slug:slug>/check-email/", confirm_views.check_email, name="petition-check-email"),
    # After the petition's own paths: a petition may be called "confirm".
    path("sign/confirm/<str:token>/", confirm_views.confirm, name="signature-confirm"),
]
