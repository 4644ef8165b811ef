from django.contrib import admin
from django.urls import path

admin.site.site_header = "Groundswell staff"
admin.site.site_title = "Groundswell"
admin.site.index_title = "Campaigns, people and consent"

urlpatterns = [
    path("admin/", admin.site.urls),
]
