"""Projects across nodes: this node's copies of shared projects, votes, remote datasets,
replicated pipelines and approvals, and the messages it sent and received about them.

Each node keeps its own copy of a shared project (a `projects.Project` row, tied to the
project's global `uid` by `SharedProject`) with the initiating node as owner. Nothing here holds
a row of anyone's data: remote datasets are schemas and column roles only.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SharedProject(models.Model):
    """A project shared across nodes: its global id and the owner's state version applied."""

    project = models.OneToOneField(
        "projects.Project", on_delete=models.CASCADE, related_name="shared"
    )
    uid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    # The owner numbers every state it sends; a member applies only a newer one.
    version = models.PositiveIntegerField(default=0)
    # Every member node's name as the owner lists it, including nodes not paired with this one.
    member_names = models.JSONField(default=list)
    # SEMI2K's source of Beaver triples in this project's network runs, set by the owner and
    # replicated with the state: "" the trusted first party, else the name of the dealer node
    # (`console.federation.dealers`). Every party checks each run against its own copy.
    dealer = models.CharField(max_length=40, blank=True, default="")

    def __str__(self) -> str:
        return f"shared {self.project} ({self.uid})"


class Decision(models.TextChoices):
    PENDING = "pending", _("Waiting for a decision")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class Proposal(models.Model):
    """A change of who is trusted that the owner node proposed; applied once every voter
    accepted: a membership change, or the project's source of Beaver triples.

    Voters: the invited node and the other members (adding); the other members except the
    owner and the node leaving (removing); the other members (a dealer node, `subject`, or
    none for the trusted first party: `console.federation.dealers`). One decline closes it as
    declined.
    """

    class Kind(models.TextChoices):
        ADD = "add", _("Add a member node")
        REMOVE = "remove", _("Remove a member node")
        DEALER = "dealer", _("Change the source of Beaver triples")

    uid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="proposals"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # None only for a dealer proposal back to the trusted first party.
    subject = models.ForeignKey(
        "nodes.Node", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # {voter node name: "pending" | "accepted" | "declined"}
    votes = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Decision.choices, default=Decision.PENDING)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject} to {self.project} ({self.status})"


class Ballot(models.Model):
    """A proposal another node's project asks this node to vote on (the message center)."""

    proposal_uid = models.UUIDField(unique=True)
    project_uid = models.UUIDField(db_index=True)
    owner = models.ForeignKey("nodes.Node", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=Proposal.Kind.choices)
    # "" only for a dealer proposal back to the trusted first party.
    subject_name = models.CharField(max_length=40, blank=True)
    project_name = models.CharField(max_length=120)
    project_description = models.TextField(blank=True)
    member_names = models.JSONField(default=list)
    # The project's source of Beaver triples when proposed ("": the trusted first party): a
    # node invited to join agrees to it too.
    project_dealer = models.CharField(max_length=40, blank=True, default="")
    status = models.CharField(max_length=16, choices=Decision.choices, default=Decision.PENDING)
    # The proposal's outcome once the owner closed it (every vote counted).
    outcome = models.CharField(max_length=16, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.owner}: {self.kind} {self.subject_name} to {self.project_name}"


class RemoteDataset(models.Model):
    """A dataset of another node authorised to a shared project: schema and roles, never rows."""

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="remote_datasets"
    )
    node = models.ForeignKey("nodes.Node", on_delete=models.PROTECT, related_name="+")
    remote_id = models.BigIntegerField()
    authorization_id = models.BigIntegerField()
    authorization_version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    # [{"name": str, "type": str}] in file order: no counts, no values.
    columns = models.JSONField(default=list)
    column_roles = models.JSONField(default=dict)
    # The owner's standing disclosure policy on the authorisation
    # (`workflows.disclosure.policy`), as last published; None: its node published none (an
    # older node), so every disclosure of this dataset is asked about. The owner's node
    # re-checks every run against its own copy: this one only tells the initiator's plan.
    policy = models.JSONField(null=True, blank=True)
    published_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["node__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "node", "remote_id"], name="one_remote_dataset_per_project"
            )
        ]

    def __str__(self) -> str:
        return f"{self.node.name}/{self.name} in {self.project}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class PublishedPipeline(models.Model):
    """At the owner node: how many versions of a pipeline it replicated to the members."""

    pipeline = models.OneToOneField(
        "workflows.Pipeline", on_delete=models.CASCADE, related_name="publication"
    )
    version = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.pipeline} published as version {self.version}"


class PipelineReplica(models.Model):
    """At a member node: a pipeline replicated read-only from the project's owner node."""

    pipeline = models.OneToOneField(
        "workflows.Pipeline", on_delete=models.CASCADE, related_name="replica"
    )
    origin = models.ForeignKey("nodes.Node", on_delete=models.PROTECT, related_name="+")
    remote_id = models.BigIntegerField()
    version = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["origin", "remote_id"], name="one_replica_per_pipeline")
        ]

    def __str__(self) -> str:
        return f"{self.pipeline} (version {self.version} from {self.origin})"


class ApprovalReplica(models.Model):
    """At a source party's node: an approval request from the initiating node, decided here."""

    approval = models.OneToOneField(
        "workflows.Approval", on_delete=models.CASCADE, related_name="replica"
    )
    origin = models.ForeignKey("nodes.Node", on_delete=models.PROTECT, related_name="+")
    remote_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["origin", "remote_id"], name="one_replica_per_approval")
        ]

    def __str__(self) -> str:
        return f"approval #{self.remote_id} of {self.origin}"


class OutgoingMessage(models.Model):
    """A message to a peer: kept until delivered, re-sent (same id) after a failure."""

    class State(models.TextChoices):
        PENDING = "pending", _("Not delivered yet")
        DELIVERED = "delivered", _("Delivered")
        REFUSED = "refused", _("Refused by the peer")

    message_id = models.CharField(max_length=32, unique=True)
    peer = models.ForeignKey("nodes.Node", on_delete=models.CASCADE, related_name="+")
    method = models.CharField(max_length=40)
    body = models.JSONField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    reply = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.method} to {self.peer.name} ({self.state})"


class ReceivedMessage(models.Model):
    """A message a peer delivered and this node applied: a re-delivery gets the same reply."""

    peer = models.ForeignKey("nodes.Node", on_delete=models.CASCADE, related_name="+")
    message_id = models.CharField(max_length=32)
    method = models.CharField(max_length=40)
    reply = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["peer", "message_id"], name="one_delivery_per_message")
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.message_id} from {self.peer}"


class RunReplica(models.Model):
    """At a member node: its part of a run started at the project's owner node.

    `run` is this node's own record (its run page, its outputs); `job` is this node's party
    job (`workflows.party_jobs.job_to_dict`, with only this node's dataset paths); `cluster`
    the engine address of every participating node once the initiator launched the run.
    """

    run = models.OneToOneField("workflows.Run", on_delete=models.CASCADE, related_name="replica")
    origin = models.ForeignKey("nodes.Node", on_delete=models.PROTECT, related_name="+")
    remote_id = models.BigIntegerField()
    job = models.JSONField()
    cluster = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["origin", "remote_id"], name="one_replica_per_run")
        ]

    def __str__(self) -> str:
        return f"run #{self.remote_id} of {self.origin}"


class RunTripleSource(models.Model):
    """At every party of a network run: where the run's SEMI2K Beaver triples came from.

    `dealer` is the dealer node's name ("": the trusted first party, the first party of each
    SPU), as the project named it when the run started; the run page shows it.
    """

    run = models.OneToOneField(
        "workflows.Run", on_delete=models.CASCADE, related_name="triple_source"
    )
    dealer = models.CharField(max_length=40, blank=True, default="")

    def __str__(self) -> str:
        return f"run {self.run_id}: triples from {self.dealer or 'the trusted first party'}"


class DealerService(models.Model):
    """At a dealer node: one run it served SEMI2K's correlations to (`console.federation.
    dealing`). It holds no data: the parties, their engine addresses and how each ended."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for the parties")
        SERVING = "serving", _("Serving")
        ENDED = "ended", _("Ended normally")
        FAILED = "failed", _("Failed")
        STOPPED = "stopped", _("Stopped: the run did not start")

    origin = models.ForeignKey("nodes.Node", on_delete=models.PROTECT, related_name="+")
    remote_run = models.BigIntegerField()
    project_uid = models.UUIDField()
    # As the initiating node states it (this node holds no copy of the project).
    project_name = models.CharField(max_length=120)
    parties = models.JSONField(default=list)
    engines = models.JSONField(default=dict)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    # {party: how its service ended} (the engine's words), once it ended.
    endings = models.JSONField(default=dict)
    message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["origin", "remote_run"], name="one_service_per_run")
        ]

    def __str__(self) -> str:
        return f"dealer for run #{self.remote_run} of {self.origin} ({self.state})"
