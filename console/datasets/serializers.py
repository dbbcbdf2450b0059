"""Datasets and authorisations as the API shows them.

Never serialised: storage paths (relative or absolute) and rows. Owner-only facts (file name,
size, checksum, encoding, who granted or revoked) are null for users of other nodes, and the
authorisations of a dataset they see are only the active ones on their own projects.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from console.datasets.access import columns_for
from console.datasets.models import Authorization, Dataset
from console.datasets.role_suggestions import role_warnings
from console.nodes.serializers import NodeRefSerializer
from console.projects.serializers import ColumnSerializer
from workflows.api.fields import IdField, StrictCharField


def _viewer_node_id(context: dict) -> int | None:
    request = context.get("request")
    return getattr(getattr(request, "user", None), "node_id", None)


class ProjectRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class DatasetRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    node = serializers.CharField(source="node.name", help_text="Name of the owning node.")


class RoleWarningSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=["no_id_column", "no_label"])
    message = serializers.CharField()


class AuthorizationSerializer(serializers.ModelSerializer):
    """An authorisation of a dataset to a project, with a role for every column."""

    dataset = DatasetRefSerializer(read_only=True)
    project = ProjectRefSerializer(read_only=True)
    column_roles = serializers.DictField(
        child=serializers.ChoiceField(choices=Authorization.Role.choices),
        help_text="Role of every column, by column name.",
    )
    is_active = serializers.BooleanField(read_only=True)
    policy = serializers.SerializerMethodField(help_text="The owner's standing disclosure policy.")
    granted_by = serializers.SerializerMethodField(help_text="Owner node only; null otherwise.")
    revoked_by = serializers.SerializerMethodField(help_text="Owner node only; null otherwise.")
    version = serializers.IntegerField(
        read_only=True, help_text="1, then one more each time the column roles are edited."
    )
    supersedes = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="The version this one replaced (null for version 1).",
    )
    superseded_by = serializers.SerializerMethodField(
        help_text="The version that replaced this one (null while active or when revoked)."
    )
    warnings = serializers.SerializerMethodField(
        help_text="What pipelines will miss with these roles: no ID column (PSI cannot join "
        "the dataset) or no label. The authorisation is valid; the owner decides."
    )

    class Meta:
        model = Authorization
        fields = [
            "id",
            "dataset",
            "project",
            "column_roles",
            "is_active",
            "policy",
            "version",
            "supersedes",
            "superseded_by",
            "warnings",
            "created_at",
            "granted_by",
            "revoked_at",
            "revoked_by",
        ]
        read_only_fields = fields

    def _is_owner(self, authorization: Authorization) -> bool:
        viewer = _viewer_node_id(self.context)
        return viewer is not None and authorization.dataset.node_id == viewer

    @extend_schema_field(serializers.DictField())
    def get_policy(self, authorization: Authorization) -> dict:
        return authorization.policy()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_granted_by(self, authorization: Authorization) -> str | None:
        user = authorization.granted_by
        return user.get_username() if user and self._is_owner(authorization) else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_revoked_by(self, authorization: Authorization) -> str | None:
        user = authorization.revoked_by
        return user.get_username() if user and self._is_owner(authorization) else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_superseded_by(self, authorization: Authorization) -> int | None:
        successor = authorization.successor
        return successor.pk if successor else None

    @extend_schema_field(RoleWarningSerializer(many=True))
    def get_warnings(self, authorization: Authorization) -> list[dict]:
        return [warning.to_dict() for warning in role_warnings(authorization.column_roles)]


class DatasetAuthorizationSerializer(AuthorizationSerializer):
    """An authorisation as listed inside its dataset."""

    class Meta(AuthorizationSerializer.Meta):
        fields = [f for f in AuthorizationSerializer.Meta.fields if f != "dataset"]
        read_only_fields = fields


OWNER_ONLY_FIELDS = ("original_filename", "size_bytes", "sha256", "encoding", "uploaded_by")


class DatasetSerializer(serializers.ModelSerializer):
    """A dataset: its schema for everyone who may see it; file facts for the owner node only."""

    node = NodeRefSerializer(read_only=True)
    columns = ColumnSerializer(many=True, read_only=True)
    is_owner = serializers.SerializerMethodField()
    original_filename = serializers.CharField(
        allow_null=True, read_only=True, help_text="Owner node only; null otherwise."
    )
    size_bytes = serializers.IntegerField(
        allow_null=True, read_only=True, help_text="Owner node only; null otherwise."
    )
    sha256 = serializers.CharField(
        allow_null=True, read_only=True, help_text="Owner node only; null otherwise."
    )
    encoding = serializers.CharField(
        allow_null=True, read_only=True, help_text="Owner node only; null otherwise."
    )
    uploaded_by = serializers.CharField(
        source="uploaded_by.username",
        allow_null=True,
        read_only=True,
        default=None,
        help_text="Owner node only; null otherwise.",
    )
    authorizations = serializers.SerializerMethodField(
        help_text="All authorisations for the owner node; for others, the active ones on "
        "projects their node belongs to."
    )

    class Meta:
        model = Dataset
        fields = [
            "id",
            "name",
            "description",
            "node",
            "is_owner",
            "row_count",
            "columns",
            "created_at",
            *OWNER_ONLY_FIELDS,
            "authorizations",
        ]
        read_only_fields = fields

    def get_is_owner(self, dataset: Dataset) -> bool:
        viewer = _viewer_node_id(self.context)
        return viewer is not None and dataset.node_id == viewer

    @extend_schema_field(DatasetAuthorizationSerializer(many=True))
    def get_authorizations(self, dataset: Dataset) -> list[dict]:
        viewer = _viewer_node_id(self.context)
        # Prefetched by the views: filter in Python so a list costs no query per dataset.
        authorizations = sorted(
            dataset.authorizations.all(), key=lambda a: a.created_at, reverse=True
        )
        if dataset.node_id != viewer:
            authorizations = [
                a
                for a in authorizations
                if a.is_active and viewer in {m.node_id for m in a.project.memberships.all()}
            ]
        return DatasetAuthorizationSerializer(authorizations, many=True, context=self.context).data

    def to_representation(self, dataset: Dataset) -> dict:
        data = super().to_representation(dataset)
        if not data["is_owner"]:
            for name in OWNER_ONLY_FIELDS:
                data[name] = None
            roles = [authorization["column_roles"] for authorization in data["authorizations"]]
            columns = columns_for(dataset, _viewer_node_id(self.context), roles)
            data["columns"] = ColumnSerializer(columns, many=True).data
        return data


class DatasetUploadSerializer(serializers.Serializer):
    """The multipart body of an upload (documentation; the service validates every field)."""

    file = serializers.FileField(
        help_text="CSV with a header row, UTF-8 (with or without BOM) or GBK."
    )
    name = StrictCharField(max_length=120, help_text="Unique within your node.")
    description = StrictCharField(required=False, allow_blank=True, default="")


class PreviewSerializer(serializers.Serializer):
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField(allow_null=True)),
        help_text="The first rows as text; null for empty / NA cells.",
    )
    row_count = serializers.IntegerField(help_text="Rows in the whole dataset.")
    truncated = serializers.BooleanField(help_text="True when the dataset has more rows.")


class AuthorizationCreateSerializer(serializers.Serializer):
    dataset = IdField(help_text="A dataset of your node.")
    project = IdField(help_text="An active project your node belongs to.")
    column_roles = serializers.DictField(
        child=StrictCharField(max_length=32),
        required=False,
        default=dict,
        help_text="Role by column name, one of: "
        + ", ".join(Authorization.Role.values)
        + ". Columns left out are features.",
    )


class RoleVersionSerializer(serializers.Serializer):
    column_roles = serializers.DictField(
        child=serializers.CharField(),
        help_text="The new role of every column, by column name, one of: "
        + ", ".join(Authorization.Role.values)
        + ". Columns left out are features.",
    )


class RoleSuggestionsSerializer(serializers.Serializer):
    column_roles = serializers.DictField(
        child=serializers.ChoiceField(choices=Authorization.Role.choices),
        help_text="A suggested role for every column: ID for an `id`/`*_id` column whose "
        "values are unique, Label for a 0/1 column named like a target, Feature otherwise.",
    )
    reasons = serializers.DictField(
        child=serializers.CharField(), help_text="Why, for the columns suggested as ID or Label."
    )
    warnings = RoleWarningSerializer(many=True, help_text="Warnings the suggested roles carry.")
