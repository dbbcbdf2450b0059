"""Audit events as the API lists them, and the list's query filters."""

from __future__ import annotations

from datetime import datetime, time

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import serializers

from console.audit.log import as_shown_to
from console.audit.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_username", read_only=True)
    actor_node = serializers.SlugRelatedField(slug_field="name", read_only=True)
    node = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "actor",
            "actor_node",
            "node",
            "action",
            "target_type",
            "target_id",
            "target_repr",
            "outcome",
            "detail",
            "ip_address",
        ]
        read_only_fields = fields

    def to_representation(self, event: AuditEvent) -> dict:
        request = self.context.get("request")
        if request is not None:
            event = as_shown_to(event, request.user)
        return super().to_representation(event)


class AuditFilterSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=AuditEvent.Action.choices, required=False)
    outcome = serializers.ChoiceField(choices=AuditEvent.Outcome.choices, required=False)
    since = serializers.CharField(
        required=False,
        max_length=40,
        help_text="Only events at or after this ISO 8601 date or date-time (UTC if no zone).",
    )

    def validate_since(self, value: str) -> datetime:
        try:
            # The parsers return None for a wrong shape and raise for an impossible date.
            moment = parse_datetime(value)
            day = parse_date(value) if moment is None else None
        except ValueError:
            moment = day = None
        if moment is None and day is None:
            raise serializers.ValidationError(
                f"'{value[:40]}' is not an ISO 8601 date or date-time, e.g. 2026-01-31T12:00Z.",
                code="invalid",
            )
        if moment is None:
            moment = datetime.combine(day, time.min)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, timezone.get_default_timezone())
        return moment
