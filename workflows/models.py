"""Pipelines, runs, node runs and artifacts.

Console objects are referenced by string ("projects.Project", "nodes.Node"): a database-level
relation, with no import of console code. Artifact paths are relative to the owning node's
storage root and never serialised.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import models


class Pipeline(models.Model):
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="pipelines"
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    graph = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "name"]

    def __str__(self) -> str:
        return self.name


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    SKIPPED = "skipped", "Skipped"
    INTERRUPTED = "interrupted", "Interrupted"


FINISHED = frozenset(
    {Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.SKIPPED, Status.INTERRUPTED}
)


class Run(models.Model):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    scope = models.CharField(max_length=16, default="all")
    scope_node = models.CharField(max_length=64, blank=True)
    reuse = models.BooleanField(default=False)
    # The graph as it was when the run was asked for; later edits do not change a run.
    snapshot = models.JSONField()
    message = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    # "host:pid" of the process executing the run (restart recovery checks it is alive).
    executor = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.pipeline}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED


class NodeRun(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="nodes")
    node_id = models.CharField(max_length=64)
    component = models.CharField(max_length=120)
    version = models.CharField(max_length=32)
    position = models.PositiveIntegerField(default=0)
    in_scope = models.BooleanField(default=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    # [{"time", "message", "level"}]; level "info", "warning" or "error" (older lines: none).
    logs = models.JSONField(default=list)
    # [{"time", "message"}]: problems a node found in its inputs or results that did not stop
    # it (e.g. unscaled features); shown on the node, in its results and in the log.
    warnings = models.JSONField(default=list)
    message = models.TextField(blank=True)
    party = models.CharField(max_length=40, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)
    # {"party": bytes sent} by the engine while this node ran.
    comm_bytes = models.JSONField(default=dict)
    reused_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "node_id"], name="unique_node_per_run")
        ]

    def __str__(self) -> str:
        return f"{self.node_id} in run {self.run_id}"


class Artifact(models.Model):
    node_run = models.ForeignKey(NodeRun, on_delete=models.CASCADE, related_name="artifacts")
    port = models.CharField(max_length=64)
    kind = models.CharField(max_length=32)
    owner_node = models.ForeignKey("nodes.Node", on_delete=models.PROTECT, related_name="+")
    party = models.CharField(max_length=40)
    relative_path = models.CharField(max_length=400)
    # The whole output's description (every party's columns): schema is public in a project.
    info = models.JSONField()
    size_bytes = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["node_run", "port", "party"]

    def __str__(self) -> str:
        return f"{self.node_run.node_id}.{self.port}@{self.party}"

    @property
    def path(self) -> Path:
        return Path(settings.NODE_STORAGE_DIR) / self.party / self.relative_path
