from django.urls import path

from console.nodes import api

urlpatterns = [
    path("nodes/", api.NodeListCreate.as_view(), name="api-nodes"),
    path("nodes/<slug:name>/", api.NodeDetail.as_view(), name="api-node"),
]
