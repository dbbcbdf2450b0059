from django.urls import path

from console.approvals import views

app_name = "approvals"
urlpatterns = [
    path("", views.approval_list, name="list"),
    path("<int:pk>/", views.approval_detail, name="detail"),
]
