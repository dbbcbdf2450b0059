"""/api/v1/audit/: node admins read their node's events, platform admins every event."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.permissions import BasePermission, IsAuthenticated

from console.accounts.permissions import RoleAndScope
from console.api.schema import errors
from console.audit.log import events_visible_to
from console.audit.serializers import AuditEventSerializer, AuditFilterSerializer


class CanReadAudit(BasePermission):
    message = "Only node admins and platform admins may read the audit log."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user.is_superuser or user.is_node_admin)


class AuditList(generics.ListAPIView):
    serializer_class = AuditEventSerializer
    permission_classes = [IsAuthenticated, RoleAndScope, CanReadAudit]

    def get_queryset(self):
        filters = AuditFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        events = events_visible_to(self.request.user)
        for field in ("action", "outcome"):
            if field in filters.validated_data:
                events = events.filter(**{field: filters.validated_data[field]})
        if "since" in filters.validated_data:
            events = events.filter(at__gte=filters.validated_data["since"])
        return events

    @extend_schema(
        summary="List audit events (node admins: their node's; platform admins: all)",
        parameters=[AuditFilterSerializer],
        responses={200: AuditEventSerializer(many=True), **errors(400, 403)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
