"""/api/v1/nodes/: every signed-in user reads nodes; platform admins register and edit them."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated

from console.accounts.permissions import RoleAndScope
from console.api.schema import errors
from console.nodes.models import Node
from console.nodes.serializers import NodeSerializer, NodeUpdateSerializer
from console.nodes.services import register_node, update_node
from workflows.actors import Actor


class IsPlatformAdminOrReadOnly(BasePermission):
    message = "Only platform admins may register or change nodes."

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or bool(request.user.is_superuser)


@extend_schema_view(
    get=extend_schema(summary="List nodes", responses={200: NodeSerializer, **errors()}),
    post=extend_schema(
        summary="Register a node (platform admins)",
        responses={201: NodeSerializer, **errors(400, 403)},
    ),
)
class NodeListCreate(generics.ListCreateAPIView):
    queryset = Node.objects.all()
    serializer_class = NodeSerializer
    permission_classes = [IsAuthenticated, RoleAndScope, IsPlatformAdminOrReadOnly]

    def perform_create(self, serializer) -> None:
        serializer.instance = register_node(
            Actor.from_request(self.request), **serializer.validated_data
        )


@extend_schema_view(
    get=extend_schema(summary="Read a node", responses={200: NodeSerializer, **errors(404)}),
    put=extend_schema(
        summary="Replace a node's description (platform admins)",
        responses={200: NodeSerializer, **errors(400, 403, 404)},
    ),
    patch=extend_schema(
        summary="Change a node (platform admins)",
        responses={200: NodeSerializer, **errors(400, 403, 404)},
    ),
)
class NodeDetail(generics.RetrieveUpdateAPIView):
    queryset = Node.objects.all()
    serializer_class = NodeUpdateSerializer
    permission_classes = [IsAuthenticated, RoleAndScope, IsPlatformAdminOrReadOnly]
    lookup_field = "name"

    def perform_update(self, serializer) -> None:
        serializer.instance = update_node(
            Actor.from_request(self.request), serializer.instance, **serializer.validated_data
        )
