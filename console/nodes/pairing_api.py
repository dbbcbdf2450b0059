"""/api/v1/node-identity/, /api/v1/invitations/ and /api/v1/routes/: pairing over the API.

Every signed-in user reads this node's identity and its routes; platform admins create and
accept invitations, switch routes and check their health. Pairing failures answer 400 (a bad
invitation or a refused pairing) or 502 (the peer could not be reached or refused the call),
always naming the peer.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from console.accounts.permissions import RoleAndScope
from console.api.schema import ErrorSerializer, errors
from console.nodes import pairing
from console.nodes.invitations import InvitationError
from console.nodes.link.transport import NodeCallError
from console.nodes.models import PeerRoute
from console.nodes.views import _identity_or_none
from workflows.actors import Actor
from workflows.api.fields import StoredMessageField


class PeerUnavailable(exceptions.APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = gettext_lazy("The peer node could not be reached.")
    default_code = "peer_unavailable"


PEER_ERROR = {
    502: OpenApiResponse(ErrorSerializer, description="The peer node was unreachable or refused")
}


def _translate(error: Exception) -> exceptions.APIException:
    if isinstance(error, NodeCallError):
        return PeerUnavailable(str(error), f"peer_{error.code}")
    if isinstance(error, InvitationError):
        return exceptions.ValidationError({"invitation": [str(error)]}, "invalid_invitation")
    return exceptions.ValidationError({"detail": str(error)}, "pairing_failed")


def _admin(request, action: str) -> None:
    if not request.user.is_superuser:
        raise exceptions.PermissionDenied(str(pairing.ADMIN_ONLY[action]))


class IdentitySerializer(serializers.Serializer):
    deployment = serializers.CharField()
    name = serializers.CharField()
    address = serializers.CharField()
    fingerprint = serializers.CharField()
    certificate_expires_at = serializers.DateTimeField()


class RouteSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="node.name", read_only=True)
    last_error = StoredMessageField()
    display_name = serializers.CharField(source="node.display_name", read_only=True)

    class Meta:
        model = PeerRoute
        fields = [
            "name", "display_name", "address", "fingerprint", "certificate_expires_at",
            "origin", "enabled", "paired_at", "last_checked_at", "last_seen_at", "latency_ms",
            "last_error", "peer_version", "certificate_rotated_at", "previous_valid_until",
        ]  # fmt: skip
        read_only_fields = [f for f in fields if f != "enabled"]


class InvitationSerializer(serializers.Serializer):
    id = serializers.CharField(read_only=True)
    expires_at = serializers.DateTimeField(read_only=True)
    invitation = serializers.CharField(read_only=True, help_text="The line to hand over.")
    days = serializers.IntegerField(
        min_value=1,
        max_value=pairing.INVITATION_DAYS,
        default=pairing.INVITATION_DAYS,
        write_only=True,
    )


class AcceptSerializer(serializers.Serializer):
    invitation = serializers.CharField(max_length=4000, trim_whitespace=True)


class NodeIdentityView(APIView):
    permission_classes = [IsAuthenticated, RoleAndScope]

    @extend_schema(
        summary="This node's identity", responses={200: IdentitySerializer, **errors(404)}
    )
    def get(self, request):
        from django.conf import settings

        identity, me = _identity_or_none(), pairing.self_node()
        if identity is None or me is None:
            raise exceptions.NotFound(
                gettext("This installation has no node identity (node init).")
            )
        data = {
            "deployment": settings.PRIVPAD_DEPLOYMENT,
            "name": me.name,
            "address": me.address,
            "fingerprint": identity.fingerprint,
            "certificate_expires_at": identity.expires_at,
        }
        return Response(IdentitySerializer(data).data)


class InvitationCreate(APIView):
    permission_classes = [IsAuthenticated, RoleAndScope]

    @extend_schema(
        summary="Create a pairing invitation (platform admins); its text is shown only here",
        request=InvitationSerializer,
        responses={201: InvitationSerializer, **errors(400, 403)},
    )
    def post(self, request):
        _admin(request, "create invitations")
        given = InvitationSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            invitation, text = pairing.create_invitation(
                Actor.from_request(request), given.validated_data["days"]
            )
        except pairing.PairingError as error:
            raise _translate(error) from None
        data = {"id": invitation.public_id, "expires_at": invitation.expires_at, "invitation": text}
        return Response(InvitationSerializer(data).data, status=status.HTTP_201_CREATED)


class RouteListAccept(APIView):
    permission_classes = [IsAuthenticated, RoleAndScope]

    @extend_schema(
        summary="List routes to paired nodes", responses={200: RouteSerializer(many=True)}
    )
    def get(self, request):
        routes = PeerRoute.objects.select_related("node")
        return Response(RouteSerializer(routes, many=True).data)

    @extend_schema(
        summary="Accept another node's invitation and pair (platform admins)",
        request=AcceptSerializer,
        responses={201: RouteSerializer, **errors(400, 403), **PEER_ERROR},
    )
    def post(self, request):
        _admin(request, "accept invitations")
        given = AcceptSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            route = pairing.accept_invitation(
                Actor.from_request(request), given.validated_data["invitation"]
            )
        except (pairing.PairingError, InvitationError, NodeCallError) as error:
            raise _translate(error) from None
        return Response(RouteSerializer(route).data, status=status.HTTP_201_CREATED)


class RouteDetail(APIView):
    permission_classes = [IsAuthenticated, RoleAndScope]

    def _route(self, name: str) -> PeerRoute:
        return get_object_or_404(PeerRoute.objects.select_related("node"), node__name=name)

    @extend_schema(summary="Read a route", responses={200: RouteSerializer, **errors(404)})
    def get(self, request, name: str):
        return Response(RouteSerializer(self._route(name)).data)

    @extend_schema(
        summary="Enable or disable a route (platform admins)",
        request=RouteSerializer,
        responses={200: RouteSerializer, **errors(400, 403, 404)},
    )
    def patch(self, request, name: str):
        _admin(request, "change routes")
        route = self._route(name)
        given = RouteSerializer(route, data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        if "enabled" in given.validated_data:
            pairing.set_route_enabled(
                Actor.from_request(request), route, given.validated_data["enabled"]
            )
        return Response(RouteSerializer(route).data)


class RouteHealth(APIView):
    permission_classes = [IsAuthenticated, RoleAndScope]

    @extend_schema(
        summary="Ping a paired node now (platform admins)",
        request=None,
        responses={200: RouteSerializer, **errors(403, 404), **PEER_ERROR},
    )
    def post(self, request, name: str):
        _admin(request, "check routes")
        route = get_object_or_404(PeerRoute.objects.select_related("node"), node__name=name)
        try:
            pairing.check_health(route)
        except (pairing.PairingError, NodeCallError) as error:
            raise _translate(error) from None
        return Response(RouteSerializer(route).data)
