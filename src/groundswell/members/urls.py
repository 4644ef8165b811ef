from django.urls import path

from groundswell.members import views

urlpatterns = [
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("subscriptions/<str:token>/", views.subscriptions, name="subscriptions"),
    path("profile/confirm-email/<str:signed>/", views.confirm_email, name="confirm-email"),
    path("profile/cancel-email/<str:signed>/", views.cancel_email_change, name="cancel-email"),
    path("profile/edit/<str:signed>/", views.profile_edit, name="profile-edit"),
    path("profile/<str:token>/", views.profile, name="profile"),
    path("welcome-back/<str:signed>/", views.welcome_back, name="welcome-back"),
    path("privacy/", views.privacy, name="privacy"),
    path("privacy/confirm/<str:signed>/", views.privacy_confirm, name="privacy-confirm"),
]
