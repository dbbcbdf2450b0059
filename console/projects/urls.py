from django.urls import path

from console.projects import views

app_name = "projects"
urlpatterns = [
    path("", views.project_list, name="list"),
    path("new/", views.create, name="create"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/members/", views.add_member, name="add_member"),
    path("<int:pk>/members/<int:node_id>/remove/", views.remove_member, name="remove_member"),
    path("<int:pk>/archive/", views.archive, name="archive"),
]
