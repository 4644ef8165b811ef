from django.urls import path

from groundswell.benchsupport import views

urlpatterns = [
    path("ok/", views.ok, name="bench-ok"),
    path("insert/", views.insert, name="bench-insert"),
]
