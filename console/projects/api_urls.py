from django.urls import path

from console.projects import api

urlpatterns = [
    path("projects/", api.ProjectListCreate.as_view(), name="api-projects"),
    path("projects/<int:pk>/", api.ProjectDetail.as_view(), name="api-project"),
    path("projects/<int:pk>/members/", api.ProjectMembers.as_view(), name="api-project-members"),
    path(
        "projects/<int:pk>/members/<slug:node_name>/",
        api.ProjectMemberDetail.as_view(),
        name="api-project-member",
    ),
]
