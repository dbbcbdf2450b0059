"""Template context for every page: the deployment mode, for the footer saying whom to trust."""

from django.conf import settings
from django.http import HttpRequest


def deployment(request: HttpRequest) -> dict:
    """`deployment_mode` ("embedded" or "network") and `this_node` (the node row marked self)."""
    from console.nodes.models import Node

    this_node = Node.objects.filter(is_self=True).first()
    return {"deployment_mode": settings.PRIVPAD_DEPLOYMENT, "this_node": this_node}
