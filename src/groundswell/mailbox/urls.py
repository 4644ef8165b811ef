from django.urls import path

from groundswell.mailbox import views

app_name = "mailbox"

urlpatterns = [
    path("", views.message_list, name="list"),
    path("<str:name>/", views.message_detail, name="detail"),
    path("<str:name>/html/", views.message_html, name="html"),
    path("<str:name>/raw/", views.message_raw, name="raw"),
]
