from django.urls import path

from console.datasets import policies, views

app_name = "datasets"
urlpatterns = [
    path("", views.dataset_list, name="list"),
    path("upload/", views.upload, name="upload"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/preview/", views.preview, name="preview"),
    path("<int:pk>/authorize/", views.authorize, name="authorize"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("authorizations/<int:pk>/roles/", views.edit_roles, name="edit_roles"),
    path("authorizations/<int:pk>/revoke/", views.revoke, name="revoke"),
    path("authorizations/<int:pk>/policy/", policies.update_policy, name="policy"),
]
