from django.urls import path

from groundswell.members.views import privacy_requests, profile, subscriptions, unsubscribe

urlpatterns = [
    path("unsubscribe/<str:token>/", unsubscribe.unsubscribe, name="unsubscribe"),
    path("subscriptions/<str:token>/", subscriptions.subscriptions, name="subscriptions"),
    path("profile/confirm-email/<str:signed>/", profile.confirm_email, name="confirm-email"),
    path("profile/cancel-email/<str:signed>/", profile.cancel_email_change, name="cancel-email"),
    path("profile/edit/<str:signed>/", profile.profile_edit, name="profile-edit"),
    path("profile/<str:token>/", profile.profile, name="profile"),
    path("welcome-back/<str:signed>/", subscriptions.welcome_back, name="welcome-back"),
    path("privacy/", privacy_requests.privacy, name="privacy"),
    path("privacy/confirm/<str:signed>/", privacy_requests.privacy_confirm, name="privacy-confirm"),
]
