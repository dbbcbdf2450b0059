from django.urls import path

from console.nodes import api, pairing_api, rotation_api

urlpatterns = [
    path("nodes/", api.NodeListCreate.as_view(), name="api-nodes"),
    path("nodes/<slug:name>/", api.NodeDetail.as_view(), name="api-node"),
    path("node-identity/", pairing_api.NodeIdentityView.as_view(), name="api-node-identity"),
    path(
        "node-identity/rotate/",
        rotation_api.RotateCertificate.as_view(),
        name="api-node-identity-rotate",
    ),
    path("invitations/", pairing_api.InvitationCreate.as_view(), name="api-invitations"),
    path("routes/", pairing_api.RouteListAccept.as_view(), name="api-routes"),
    path("routes/<slug:name>/", pairing_api.RouteDetail.as_view(), name="api-route"),
    path("routes/<slug:name>/health/", pairing_api.RouteHealth.as_view(), name="api-route-health"),
    path(
        "routes/<slug:name>/notify-rotation/",
        rotation_api.NotifyRotation.as_view(),
        name="api-route-notify-rotation",
    ),
]
