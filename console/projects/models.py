"""Projects: where member nodes pool authorised datasets into pipelines."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Project(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ARCHIVED = "archived", _("Archived (read-only)")

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    owner_node = models.ForeignKey(
        "nodes.Node", on_delete=models.PROTECT, related_name="owned_projects"
    )
    members = models.ManyToManyField("nodes.Node", through="ProjectMember", related_name="projects")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.status == self.Status.ARCHIVED

    def has_member(self, node) -> bool:
        return node is not None and self.memberships.filter(node=node).exists()


class ProjectMember(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    node = models.ForeignKey("nodes.Node", on_delete=models.PROTECT, related_name="memberships")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at"]
        constraints = [
            models.UniqueConstraint(fields=["project", "node"], name="unique_project_member")
        ]

    def __str__(self) -> str:
        return f"{self.node} in {self.project}"
