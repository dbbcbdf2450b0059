"""Input and output shapes of the workflows API. Storage paths are never part of them."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers

from workflows import ownership
from workflows.api.fields import IdField, JSONObjectField, StrictCharField
from workflows.graph import Scope
from workflows.models import Artifact, Pipeline
from workflows.starters import STARTERS


class PipelineSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    editors = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    can_edit = serializers.SerializerMethodField()

    class Meta:
        model = Pipeline
        fields = [
            "id",
            "project",
            "name",
            "description",
            "graph",
            "created_by",
            "editors",
            "can_edit",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_can_edit(self, pipeline: Pipeline) -> bool:
        """Whether the asking user may change it (`workflows.ownership`)."""
        request = self.context.get("request")
        return bool(request) and ownership.may_edit(request.user, pipeline)


class PipelineEditorsSerializer(serializers.Serializer):
    editors = serializers.ListField(
        child=serializers.CharField(max_length=150), max_length=50, allow_empty=True
    )


class PipelineCreateSerializer(serializers.Serializer):
    project = IdField()
    name = StrictCharField(max_length=120)
    description = StrictCharField(required=False, allow_blank=True, default="")
    graph = JSONObjectField(required=False, default=dict)
    template = serializers.ChoiceField(choices=list(STARTERS), required=False)

    def validate(self, attrs: dict) -> dict:
        if attrs.get("template") and attrs.get("graph"):
            raise serializers.ValidationError(_("give either a graph or a template, not both"))
        return attrs


class PipelineUpdateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=120, required=False)
    description = StrictCharField(required=False, allow_blank=True)
    graph = JSONObjectField(required=False)


class PipelineImportSerializer(serializers.Serializer):
    project = IdField()
    document = JSONObjectField()


class RunCreateSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=[s.value for s in Scope], default=Scope.ALL.value)
    node = StrictCharField(max_length=64, required=False, allow_blank=True, default="")
    reuse = serializers.BooleanField(default=False)

    def validate(self, attrs: dict) -> dict:
        if attrs["scope"] != Scope.ALL and not attrs["node"]:
            raise serializers.ValidationError({"node": "this scope needs a node id"})
        return attrs


class ArtifactSerializer(serializers.ModelSerializer):
    node = serializers.CharField(source="node_run.node_id")
    run = serializers.IntegerField(source="node_run.run_id")
    owner = serializers.CharField(source="party")

    class Meta:
        model = Artifact
        fields = ["id", "run", "node", "port", "kind", "owner", "info", "size_bytes", "created_at"]
