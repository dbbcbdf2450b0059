"""Datasets (CSV files kept in their node's storage, each with its typed Arrow table) and their
authorisations to projects.

Rows never leave the owning node's storage: other project members see only the schema and the
column roles of datasets authorised to their project.
"""

from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import Q

from workflows.tabular.convert import table_path


class Dataset(models.Model):
    node = models.ForeignKey("nodes.Node", on_delete=models.PROTECT, related_name="datasets")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    original_filename = models.CharField(max_length=255)
    # Relative to the node's storage root; never serialised to anyone.
    relative_path = models.CharField(max_length=255)
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    encoding = models.CharField(max_length=16)
    row_count = models.BigIntegerField()
    # [{"name": str, "type": "int|float|str|bool", "nulls": int}] in file order.
    columns = models.JSONField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "name"]
        constraints = [
            models.UniqueConstraint(fields=["node", "name"], name="unique_dataset_name_per_node")
        ]

    def __str__(self) -> str:
        return f"{self.node.name}/{self.name}"

    @property
    def path(self) -> Path:
        return self.node.storage_root / self.relative_path

    @property
    def table_path(self) -> Path:
        """The typed Arrow table converted from the CSV (at upload; older datasets on first
        use, `workflows.tabular.convert`), next to it in the node's storage."""
        return table_path(self.path)

    @property
    def column_names(self) -> list[str]:
        return [column["name"] for column in self.columns]


class Authorization(models.Model):
    class Role(models.TextChoices):
        ID = "id", "ID / key"
        FEATURE = "feature", "Feature"
        LABEL = "label", "Label"
        PROTECTED = "protected", "Protected (not usable)"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="authorizations")
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="authorizations"
    )
    # {"column name": role} for every column of the dataset.
    column_roles = models.JSONField()
    # The owner's standing disclosure policy for this project (workflows.disclosure.policy):
    # {"ids" | "aggregates" | "models" | "row_level" | "label_results": "allow" | "ask" |
    # "refuse", "aggregates_min_k": k}; missing keys mean "ask" (and k = 20).
    disclosure_policy = models.JSONField(default=dict, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Editing the column roles makes a new version that supersedes this one: the old row is
    # closed (revoked_at set, at the same instant) and kept for history, so every grant of roles
    # stays its own audited record. Version 1 supersedes nothing.
    version = models.PositiveIntegerField(default=1)
    supersedes = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="superseded_by",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "project"],
                condition=Q(revoked_at__isnull=True),
                name="one_active_authorization_per_dataset_and_project",
            )
        ]

    def __str__(self) -> str:
        return f"{self.dataset} -> {self.project}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def policy(self) -> dict:
        """The standing policy with every setting filled in."""
        from workflows.disclosure.policy import Policy

        return Policy.from_dict(self.disclosure_policy).to_dict()

    @property
    def successor(self) -> "Authorization | None":
        """The version that replaced this one, or None (active, or revoked outright)."""
        try:
            return self.superseded_by
        except Authorization.DoesNotExist:
            return None
