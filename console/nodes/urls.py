from django.urls import path

from console.nodes import pairing_views, rotation_views, views

app_name = "nodes"
urlpatterns = [
    path("", views.node_list, name="list"),
    path("invitations/", pairing_views.create_invitation, name="invite"),
    path("invitations/accept/", pairing_views.accept_invitation, name="accept"),
    path(
        "invitations/<str:public_id>/revoke/",
        pairing_views.revoke_invitation,
        name="revoke-invitation",
    ),
    path("routes/<slug:name>/health/", pairing_views.check_route, name="route-health"),
    path("routes/<slug:name>/switch/", pairing_views.switch_route, name="route-switch"),
    path("certificate/rotate/", rotation_views.rotate_certificate, name="rotate-certificate"),
    path(
        "routes/<slug:name>/notify-rotation/",
        rotation_views.notify_rotation,
        name="notify-rotation",
    ),
]
