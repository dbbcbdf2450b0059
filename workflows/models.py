"""Pipelines, runs, node runs and artifacts; disclosure approvals and the privacy ledger.

Console objects are referenced by string ("projects.Project", "nodes.Node"): a database-level
relation, with no import of console code. Artifact paths are relative to the owning node's
storage root and never serialised.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def stated_person(user, origin_node: str, origin_user: str) -> str:
    """Who did something, in words: a user of this node by username; someone at another node
    (a run or request that node sent, network mode) as "alice (at node alice)": the node is
    the authenticated peer, the user's name only as that node states it; "" when unknown."""
    if user is not None:
        return user.get_username()
    if not origin_node:
        return ""
    if not origin_user:
        return gettext("a user at node %(node)s") % {"node": origin_node}
    return gettext("%(user)s (at node %(node)s)") % {"user": origin_user, "node": origin_node}


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
    # Besides its creator, the users who may edit it (chosen by the creator or the project's
    # owner node); everyone else in the project reads it (`workflows.ownership`).
    editors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="editable_pipelines"
    )
    # Deleting a pipeline archives it: its runs and every party's results stay.
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "name"]

    def __str__(self) -> str:
        return self.name


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    SKIPPED = "skipped", _("Skipped")
    INTERRUPTED = "interrupted", _("Interrupted")
    # Consent was withdrawn while it ran (`workflows.revocation`): stopped, nothing delivered.
    REVOKED = "revoked", _("Revoked")


FINISHED = frozenset(
    {
        Status.SUCCEEDED,
        Status.FAILED,
        Status.CANCELLED,
        Status.SKIPPED,
        Status.INTERRUPTED,
        Status.REVOKED,
    }
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
    # When consent behind the run was withdrawn (a revoked authorisation, a removed member, a
    # disabled node, a rejected approval), and why in words free of data values.
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=300, blank=True)
    # "host:pid" of the process executing the run (restart recovery checks it is alive).
    executor = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # This node's part of a run another node started (network mode): that node's name and its
    # user's name as that node states it (`stated_person`); empty for a run started here.
    origin_node = models.CharField(max_length=40, blank=True)
    origin_user = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The disclosure plan the run was started with (workflows.disclosure.plan.Plan.to_dict()),
    # its fingerprint, and how each source party consented: {party: approval id or "policy"}.
    disclosure = models.JSONField(default=dict, blank=True)
    disclosure_fingerprint = models.CharField(max_length=64, blank=True)
    consents = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.pipeline}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def started_by(self) -> str:
        """Who started the run, in words ("" when no user did: `stated_person`)."""
        return stated_person(self.created_by, self.origin_node, self.origin_user)


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
    # The full message (a failure's own text: the failing party's view) and the one every
    # other party sees (`workflows.redaction`: no data values).
    message = models.TextField(blank=True)
    public_message = models.TextField(blank=True)
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


class NodePart(models.Model):
    """One party's part of a node in a run across nodes, as the initiating node knows it.

    In a network run every participating node executes every node of the pipeline for its own
    party (`workflows.party`); the node's row (`NodeRun`) holds the outcome the parties
    confirmed, and each party's part what that party reported as it went: its status,
    progress, public message, and (for other nodes' parties) its log lines and warnings in
    public form. Written only by `workflows.state`; `sequence` is the last event of the
    party's report stream applied to this part (`console.federation.run_events`).
    """

    node_run = models.ForeignKey(NodeRun, on_delete=models.CASCADE, related_name="parts")
    party = models.CharField(max_length=40)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    message = models.TextField(blank=True)
    logs = models.JSONField(default=list)
    warnings = models.JSONField(default=list)
    sequence = models.BigIntegerField(default=0)
    # Finished here when the run ended without the party's own report of it (lost, or still
    # on its way): its late report may still say how it ended (`workflows.state.close_parts`).
    closed_without_report = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["node_run", "party"]
        constraints = [
            models.UniqueConstraint(fields=["node_run", "party"], name="one_part_per_party")
        ]

    def __str__(self) -> str:
        return f"{self.party}'s part of {self.node_run}"


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


class Approval(models.Model):
    """A source party's decision on a pipeline's disclosure plan (bound to its fingerprint).

    `plan` keeps the entries of that party exactly as its approvers saw them, with the words.
    """

    class Decision(models.TextChoices):
        PENDING = "pending", _("Waiting for a decision")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="approvals")
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    party = models.CharField(max_length=40)
    party_node = models.ForeignKey("nodes.Node", on_delete=models.PROTECT, related_name="+")
    fingerprint = models.CharField(max_length=64)
    plan = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Decision.choices, default=Decision.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A request another node sent (network mode): that node's name and its user's name as that
    # node states it (`stated_person`); empty for a request made here.
    origin_node = models.CharField(max_length=40, blank=True)
    origin_user = models.CharField(max_length=150, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # A decision the party's own node sent (network mode, at the requesting node): that node's
    # name and its user's name as that node states it (`stated_person`).
    decision_node = models.CharField(max_length=40, blank=True)
    decision_user = models.CharField(max_length=150, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        permissions = [
            ("decide_approval", "Can approve or reject disclosures of the node's data"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["pipeline", "party", "fingerprint"], name="one_approval_per_plan_and_party"
            )
        ]

    def __str__(self) -> str:
        return f"{self.party}'s approval of {self.pipeline} ({self.status})"

    @property
    def requester(self) -> str:
        """Who asked for the approval, in words ("" when unknown: `stated_person`)."""
        return stated_person(self.requested_by, self.origin_node, self.origin_user)

    @property
    def decider(self) -> str:
        """Who decided, in words ("" when undecided or unknown: `stated_person`)."""
        return stated_person(self.decided_by, self.decision_node, self.decision_user)


class RunSource(models.Model):
    """A dataset a run read (kept by id and name: the record outlives the dataset)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="sources")
    dataset_id = models.BigIntegerField(db_index=True)
    dataset_name = models.CharField(max_length=120)
    party = models.CharField(max_length=40)
    authorization_id = models.BigIntegerField(null=True)

    class Meta:
        ordering = ["run", "party", "dataset_name"]

    def __str__(self) -> str:
        return f"{self.party}/{self.dataset_name} read by run {self.run_id}"


class LedgerEntry(models.Model):
    """What one party actually received from one output of a run, derived from others' data."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="ledger")
    recipient = models.CharField(max_length=40)
    recipient_node = models.ForeignKey("nodes.Node", on_delete=models.PROTECT, related_name="+")
    node_id = models.CharField(max_length=64)
    component = models.CharField(max_length=120)
    port = models.CharField(max_length=64)
    kind = models.CharField(max_length=16)  # the form: aggregate, model, ids, row_level
    what = models.CharField(max_length=200)
    min_group = models.PositiveIntegerField(null=True)
    rows = models.BigIntegerField(null=True)
    # [{"party", "dataset", "name", "role"}] of the source columns it derives from.
    columns = models.JSONField(default=list)
    source_parties = models.JSONField(default=list)
    # {source party: approval id, or "policy" when a standing policy allowed it}.
    consents = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "recipient", "id"]

    def __str__(self) -> str:
        return f"{self.recipient} received {self.what} ({self.kind}) in run {self.run_id}"
