from django.urls import path

from groundswell.tracking import views

app_name = "tracking"

urlpatterns = [
    path("go/<int:mailing_id>/<int:number>/", views.go, name="go"),
    path("o/<int:mailing_id>/<str:token>.gif", views.open_image, name="open"),
]
