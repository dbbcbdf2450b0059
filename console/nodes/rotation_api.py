"""/api/v1/node-identity/rotate/ and /api/v1/routes/<name>/notify-rotation/ (platform admins).

The same use cases as `manage.py node rotate-certificate` / `notify-rotation` and the nodes
page. A rotation is done even when some peers could not be told: the answer lists each peer's
notice (`confirmed`, or `failed` with the error naming the peer), as the page does.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from console.accounts.permissions import RoleAndScope
from console.api.schema import errors
from console.nodes import rotation
from console.nodes.models import PeerRoute
from console.nodes.pairing import PairingError
from workflows.actors import Actor
from workflows.api.fields import StoredMessageField


class NoticeSerializer(serializers.Serializer):
    peer = serializers.CharField(source="route.node.name")
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    last_error = StoredMessageField()
    confirmed_at = serializers.DateTimeField(allow_null=True)


class RotationSerializer(serializers.Serializer):
    grace_seconds = serializers.IntegerField(
        required=False, min_value=0, write_only=True, help_text="Default: the node's setting."
    )
    force = serializers.BooleanField(
        default=False, write_only=True, help_text="Rotate even if peers were not told of the last."
    )
    old_fingerprint = serializers.CharField(read_only=True)
    new_fingerprint = serializers.CharField(read_only=True)
    rotated_at = serializers.DateTimeField(read_only=True)
    grace_until = serializers.DateTimeField(read_only=True)
    notices = NoticeSerializer(many=True, read_only=True)


def _admin(request, action: str) -> None:
    if not request.user.is_superuser:
        raise exceptions.PermissionDenied(f"Only platform admins may {action}.")


class RotateCertificate(APIView):
    permission_classes = [IsAuthenticated, RoleAndScope]

    @extend_schema(
        summary="Rotate this node's certificate and tell every peer (platform admins)",
        request=RotationSerializer,
        responses={201: RotationSerializer, **errors(400, 403)},
    )
    def post(self, request):
        _admin(request, "rotate the node certificate")
        given = RotationSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            done = rotation.rotate_certificate(
                Actor.from_request(request),
                grace_seconds=given.validated_data.get("grace_seconds"),
                force=given.validated_data["force"],
            )
        except PairingError as error:
            raise exceptions.ValidationError({"detail": str(error)}, "rotation_refused") from None
        return Response(RotationSerializer(done).data, status=status.HTTP_201_CREATED)


class NotifyRotation(APIView):
    permission_classes = [IsAuthenticated, RoleAndScope]

    @extend_schema(
        summary="Tell a peer of this node's last rotation again (platform admins)",
        request=None,
        responses={200: NoticeSerializer, **errors(400, 403, 404)},
    )
    def post(self, request, name: str):
        _admin(request, "notify peers of a rotation")
        get_object_or_404(PeerRoute, node__name=name)
        try:
            (notice,) = rotation.notify_rotation(Actor.from_request(request), [name])
        except PairingError as error:
            raise exceptions.ValidationError({"detail": str(error)}, "rotation_refused") from None
        return Response(NoticeSerializer(notice).data)
