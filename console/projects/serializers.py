"""Projects as the API shows them.

Authorised datasets appear with their schema and column roles only: never rows, never where
the file is stored, never its checksum or original file name.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from console.datasets.access import columns_for
from console.datasets.models import Authorization
from console.nodes.serializers import NodeRefSerializer
from console.projects.models import Project, ProjectMember
from workflows.api.fields import StrictCharField


class ProjectSerializer(serializers.ModelSerializer):
    owner_node = serializers.SlugRelatedField(slug_field="name", read_only=True)
    members = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = ["id", "name", "description", "status", "owner_node", "members", "created_at"]
        read_only_fields = fields

    def get_members(self, project: Project) -> list[str]:
        return [membership.node.name for membership in project.memberships.all()]


class ProjectMemberSerializer(serializers.ModelSerializer):
    node = NodeRefSerializer(read_only=True)
    is_owner = serializers.SerializerMethodField()

    class Meta:
        model = ProjectMember
        fields = ["node", "is_owner", "added_at"]
        read_only_fields = fields

    def get_is_owner(self, membership: ProjectMember) -> bool:
        return membership.node_id == membership.project.owner_node_id


class ColumnSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()
    nulls = serializers.IntegerField(
        allow_null=True,
        help_text="Missing values; null for another node's protected column or a dataset of "
        "fewer than k rows.",
    )


class ProjectDatasetSerializer(serializers.ModelSerializer):
    """A dataset authorised to the project: schema and column roles, nothing else."""

    authorization = serializers.IntegerField(source="id", read_only=True)
    dataset = serializers.IntegerField(source="dataset.id", read_only=True)
    name = serializers.CharField(source="dataset.name", read_only=True)
    node = serializers.CharField(source="dataset.node.name", read_only=True)
    row_count = serializers.IntegerField(source="dataset.row_count", read_only=True)
    columns = ColumnSerializer(source="dataset.columns", many=True, read_only=True)
    column_roles = serializers.DictField(child=serializers.CharField(), read_only=True)
    authorized_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Authorization
        fields = [
            "authorization",
            "dataset",
            "name",
            "node",
            "row_count",
            "columns",
            "column_roles",
            "authorized_at",
        ]

    def to_representation(self, authorization: Authorization) -> dict:
        data = super().to_representation(authorization)
        user = getattr(self.context.get("request"), "user", None)
        node_id = getattr(user, "node_id", None)
        columns = columns_for(authorization.dataset, node_id, [authorization.column_roles])
        data["columns"] = ColumnSerializer(columns, many=True).data
        return data


class ProjectDetailSerializer(ProjectSerializer):
    """A project with its members and, for member nodes, its authorised datasets.

    Platform admins who are not a member see the members but no dataset schemas: they are not
    a party to the project.
    """

    members = ProjectMemberSerializer(source="memberships", many=True, read_only=True)
    datasets = serializers.SerializerMethodField()

    class Meta(ProjectSerializer.Meta):
        fields = [*ProjectSerializer.Meta.fields, "datasets"]
        read_only_fields = fields

    @extend_schema_field(ProjectDatasetSerializer(many=True))
    def get_datasets(self, project: Project) -> list[dict]:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None or not project.has_member(user.node):
            return []
        authorizations = project.authorizations.filter(revoked_at__isnull=True).select_related(
            "dataset__node"
        )
        return ProjectDatasetSerializer(authorizations, many=True, context=self.context).data


class ProjectCreateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=120)
    description = StrictCharField(required=False, allow_blank=True, default="")


class ProjectUpdateSerializer(serializers.Serializer):
    """PATCH body: any of name, description, status; unknown keys are refused, not ignored."""

    name = StrictCharField(max_length=120, required=False)
    description = StrictCharField(required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=Project.Status.choices, required=False)

    def validate(self, attrs: dict) -> dict:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                f"Cannot change {', '.join(unknown)}; editable: {', '.join(self.fields)}.",
                code="invalid_field",
            )
        if not attrs:
            raise serializers.ValidationError("Nothing to change.", code="empty")
        return attrs


class MemberAddSerializer(serializers.Serializer):
    node = serializers.SlugField(help_text="Name of the node to add, e.g. 'carol'.")
