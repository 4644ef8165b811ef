from django.urls import path

from groundswell.workspace import views

app_name = "workspace"

urlpatterns = [
    path("", views.home, name="home"),
    path("petitions/<slug:slug>/", views.petition_dashboard, name="petition"),
    path("petitions/<slug:slug>/stats.json", views.petition_stats, name="petition-stats"),
]
