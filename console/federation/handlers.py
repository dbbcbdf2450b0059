"""The receiving side of federation messages, one handler per message type.

Each handler acts for a paired peer node (`PeerActor`: the route the node service verified),
reads its typed body (`wire`), checks that the peer may send it (the project's owner node for
project state, pipelines and approval requests; a member for its own datasets; the source
party for its decision), and applies it in one transaction. A message id applied once is not
applied again: its re-delivery gets the first reply (`ReceivedMessage`). Refusals raise the
node service's `Refused` (audited there as denied, with the reason, on this side; the sender
audits its failed call); their reasons travel as msgid and params (`refuse`), so the sender's
users read them in their own language. Params are names this node may tell the peer (nodes,
projects, pipelines, parties), never data.

Threat model: a paired peer is who it is, not trusted to behave; it can send any well-formed
message about any project id it learnt. So every check is made against this node's own
copy: who owns the project here, who is a member here, whose approval it is here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import grpc
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from console.audit.log import Action, record
from console.federation import projects, wire
from console.federation.models import (
    ApprovalReplica,
    Ballot,
    Decision,
    PipelineReplica,
    Proposal,
    ReceivedMessage,
    RemoteDataset,
    SharedProject,
)
from console.nodes.link.envelope import Envelope, EnvelopeError, error_message, text_field
from console.nodes.link.service import Refused, register_peer_method
from console.nodes.models import Node, PeerRoute
from workflows.actors import Actor
from workflows.disclosure import consent
from workflows.messages import Message, translatable
from workflows.models import Approval, Pipeline

FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class PeerActor:
    """A paired peer node acting here: its `Actor.peer` (audit, services) and its route."""

    node: Node
    route: PeerRoute

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def actor(self) -> Actor:
        return Actor.peer(self.node)


def refuse(message: Message | str) -> Refused:
    """A refusal of the peer's call: a message (`workflows.messages.translatable`) is sent as
    msgid and params and worded at the peer in its reader's language; plain text (another
    module's error) is sent as it is."""
    return Refused(grpc.StatusCode.PERMISSION_DENIED, message)


HANDLERS: dict[str, Callable[[PeerActor, dict], dict]] = {}


def handles(method: str):
    def register(handler):
        HANDLERS[method] = handler
        register_peer_method(method, lambda route, envelope: receive(method, route, envelope))
        return handler

    return register


def refusal_of(error: ValueError | ValidationError) -> Message | str:
    """What a peer is told of a message it sent that could not be applied: the reason as a
    message (a bad pipeline document's, `DocumentInvalid.said`; an EnvelopeError's), read in
    the sender's users' language; other validation errors as their text, bounded."""
    said = getattr(error, "said", None)
    if isinstance(said, Message | str):
        return said
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)[:500]
    return error_message(error)


def receive(method: str, route: PeerRoute, envelope: Envelope) -> dict:
    """Apply a message once: a re-delivered id gets the reply it got the first time."""
    try:
        message = wire.message_id(envelope.body)
    except EnvelopeError as error:
        raise Refused(grpc.StatusCode.INVALID_ARGUMENT, error.message) from None
    seen = ReceivedMessage.objects.filter(peer=route.node, message_id=message).first()
    if seen is not None:
        return {**seen.reply, "redelivered": True}
    try:
        with transaction.atomic():
            reply = HANDLERS[method](PeerActor(route.node, route), envelope.body)
            ReceivedMessage.objects.create(
                peer=route.node, message_id=message, method=method, reply=reply
            )
    except (ValueError, ValidationError) as error:  # EnvelopeError, a bad graph document
        said = refusal_of(error)
        raise Refused(grpc.StatusCode.INVALID_ARGUMENT, said) from None
    except IntegrityError:  # the same id delivered twice at once: the other one applied it
        seen = ReceivedMessage.objects.get(peer=route.node, message_id=message)
        return {**seen.reply, "redelivered": True}
    return reply


# --- Lookups that refuse ------------------------------------------------------------------


def _shared(body: dict) -> SharedProject | None:
    uid = wire.uid_field(body, "project")
    return SharedProject.objects.select_related("project__owner_node").filter(uid=uid).first()


def _project_owned_by(peer: PeerActor, body: dict) -> SharedProject:
    shared = _shared(body)
    if shared is None:
        raise refuse(translatable("this node holds no copy of that project"))
    if shared.project.owner_node_id != peer.node.pk:
        raise refuse(
            translatable(
                "%(peer)s does not own project '%(project)s': only its owner node "
                "(%(owner)s) sends its state, pipelines and requests",
                peer=peer.name,
                project=shared.project.name,
                owner=shared.project.owner_node.name,
            )
        )
    return shared


def _project_with_member(peer: PeerActor, body: dict) -> SharedProject:
    shared = _shared(body)
    if shared is None or not shared.project.has_member(peer.node):
        raise refuse(
            translatable("%(peer)s is not a member of that project on this node", peer=peer.name)
        )
    return shared


def _owned_here(shared: SharedProject | None) -> bool:
    return shared is not None and shared.project.owner_node_id == projects.self_node().pk


# --- Projects -------------------------------------------------------------------------------


@handles("ProjectPropose")
def project_propose(peer: PeerActor, body: dict) -> dict:
    """The owner asks this node to vote on a membership change or on the project's source of
    Beaver triples (shown in the message center)."""
    state = wire.ProjectState.read(body)
    proposal_uid = wire.uid_field(body, "proposal")
    kind = wire.choice_field(body, "kind", Proposal.Kind.values)
    trusted_first_party = kind == Proposal.Kind.DEALER and body.get("subject") == ""
    subject = "" if trusted_first_party else wire.node_name(body.get("subject"))
    me = projects.self_node()
    shared = SharedProject.objects.filter(uid=state.uid).select_related("project").first()
    if shared is not None and shared.project.owner_node_id != peer.node.pk:
        raise refuse(
            translatable(
                "%(peer)s does not own that project: only its owner proposes changes",
                peer=peer.name,
            )
        )
    invited = kind == Proposal.Kind.ADD and subject == me.name
    member = shared is not None and shared.project.has_member(me) and subject != me.name
    if not (invited or member):
        raise refuse(
            translatable("this node (%(node)s) does not vote on that change", node=me.name)
        )
    if kind == Proposal.Kind.DEALER and subject in state.members:
        raise refuse(
            translatable(
                "%(node)s is a member of the project: a dealer node must be a third node",
                node=subject,
            )
        )
    ballot, created = Ballot.objects.get_or_create(
        proposal_uid=proposal_uid,
        defaults={
            "project_uid": state.uid,
            "owner": peer.node,
            "kind": kind,
            "subject_name": subject,
            "project_name": state.name,
            "project_description": state.description,
            "member_names": list(state.members),
            "project_dealer": state.dealer,
        },
    )
    if ballot.owner_id != peer.node.pk:
        raise refuse(translatable("that proposal id belongs to another node's proposal"))
    return {"ballot": "received" if created else "known"}


@handles("ProjectVote")
def project_vote(peer: PeerActor, body: dict) -> dict:
    """A voter's decision on a proposal of a project this node owns."""
    proposal_uid = wire.uid_field(body, "proposal")
    decision = wire.choice_field(body, "decision", (Decision.ACCEPTED, Decision.DECLINED))
    proposal = Proposal.objects.select_related("project").filter(uid=proposal_uid).first()
    if proposal is None or not _owned_here(getattr(proposal.project, "shared", None)):
        raise refuse(translatable("this node owns no such proposal"))
    if peer.name not in proposal.votes:
        raise refuse(translatable("%(peer)s does not vote on this proposal", peer=peer.name))
    if proposal.status == Decision.PENDING:
        proposal.votes[peer.name] = decision
        proposal.save(update_fields=["votes"])
        projects.tally(proposal)
    return {"status": proposal.status}


@handles("ProposalOutcome")
def proposal_outcome(peer: PeerActor, body: dict) -> dict:
    """The owner closed a proposal this node voted on: accepted or declined by the voters."""
    proposal_uid = wire.uid_field(body, "proposal")
    outcome = wire.choice_field(body, "outcome", (Decision.ACCEPTED, Decision.DECLINED))
    ballot = Ballot.objects.filter(proposal_uid=proposal_uid, owner=peer.node).first()
    if ballot is None:
        raise refuse(translatable("%(peer)s asked this node no such vote", peer=peer.name))
    Ballot.objects.filter(pk=ballot.pk).update(outcome=outcome)
    return {"outcome": outcome}


@handles("ProjectState")
def project_state(peer: PeerActor, body: dict) -> dict:
    """The owner's state of a project: name, members, status (a newer version replaces)."""
    state = wire.ProjectState.read(body)
    shared = SharedProject.objects.select_related("project").filter(uid=state.uid).first()
    me = projects.self_node()
    if shared is not None and shared.project.owner_node_id != peer.node.pk:
        raise refuse(
            translatable(
                "%(peer)s does not own that project: only its owner sends its state", peer=peer.name
            )
        )
    if shared is None:
        accepted = Ballot.objects.filter(
            project_uid=state.uid, owner=peer.node, subject_name=me.name, status=Decision.ACCEPTED
        )
        if not accepted.exists():
            raise refuse(
                translatable(
                    "this node (%(node)s) did not accept to join that project", node=me.name
                )
            )
    elif state.version <= shared.version:
        return {"applied": False, "version": shared.version}
    projects.apply_state(peer.node, state)
    return {"applied": True, "version": state.version}


@handles("ProjectFetch")
def project_fetch(peer: PeerActor, body: dict) -> dict:
    """A member asks for the current state of a project this node owns."""
    shared = _shared(body)
    if not _owned_here(shared) or not shared.project.has_member(peer.node):
        raise refuse(
            translatable("%(peer)s is not a member of that project on this node", peer=peer.name)
        )
    return {"project": projects.state_of(shared.project).to_body()}


# --- Datasets -------------------------------------------------------------------------------


@handles("DatasetPublish")
def dataset_publish(peer: PeerActor, body: dict) -> dict:
    """A member authorised one of its datasets to the project, or changed the authorisation's
    standing policy: its schema, roles and policy only."""
    shared = _project_with_member(peer, body)
    if shared.project.is_archived:
        raise refuse(
            translatable("project '%(project)s' is archived here", project=shared.project.name)
        )
    schema = wire.DatasetSchema.read(body)
    current = RemoteDataset.objects.filter(
        project=shared.project, node=peer.node, remote_id=schema.remote_id
    ).first()
    if current is not None and current.authorization_id > schema.authorization_id:
        return {"applied": False}  # an older version arriving late
    RemoteDataset.objects.update_or_create(
        project=shared.project,
        node=peer.node,
        remote_id=schema.remote_id,
        defaults={
            "authorization_id": schema.authorization_id,
            "authorization_version": schema.version,
            "name": schema.name,
            "description": schema.description,
            "columns": [_column(name, kind, schema.missing) for name, kind in schema.columns],
            "column_roles": schema.roles,
            "policy": schema.policy,
            "published_at": timezone.now(),
            "revoked_at": None,
        },
    )
    return {"applied": True}


def _column(name: str, kind: str, missing: tuple[str, ...] | None) -> dict:
    """A published column; `missing` only when the owner said (`console.federation.sources`)."""
    column = {"name": name, "type": kind}
    return column if missing is None else {**column, "missing": name in missing}


@handles("DatasetRevoke")
def dataset_revoke(peer: PeerActor, body: dict) -> dict:
    """A member withdrew its dataset's authorisation (also in an archived project)."""
    shared = _project_with_member(peer, body)
    dataset = wire.int_field(body, "dataset", 1)
    authorization = wire.int_field(body, "authorization", 1)
    revoked = RemoteDataset.objects.filter(
        project=shared.project,
        node=peer.node,
        remote_id=dataset,
        authorization_id=authorization,
        revoked_at__isnull=True,
    ).update(revoked_at=timezone.now())
    return {"revoked": revoked}


# --- Pipelines ------------------------------------------------------------------------------


@handles("PipelineReplicate")
def pipeline_replicate(peer: PeerActor, body: dict) -> dict:
    """The owner's pipeline, replicated read-only here (a newer version replaces)."""
    from workflows.services import read_document

    shared = _project_owned_by(peer, body)
    sent = wire.map_field(body, "pipeline")
    remote_id, version = wire.int_field(sent, "id", 1), wire.int_field(sent, "version", 1)
    archived = sent.get("archived") is True
    document = read_document(wire.document_field(sent, "document"))
    replica = PipelineReplica.objects.filter(origin=peer.node, remote_id=remote_id).first()
    if replica is not None and replica.version >= version:
        return {"applied": False, "version": replica.version}
    if replica is not None and replica.pipeline.project_id != shared.project.pk:
        raise refuse(translatable("that pipeline belongs to another project here"))
    pipeline = replica.pipeline if replica else Pipeline(project=shared.project)
    pipeline.name, pipeline.description = document["name"], document["description"]
    pipeline.graph = document["graph"]
    pipeline.archived_at = (pipeline.archived_at or timezone.now()) if archived else None
    pipeline.save()
    PipelineReplica.objects.update_or_create(
        pipeline=pipeline,
        defaults={"origin": peer.node, "remote_id": remote_id, "version": version},
    )
    return {"applied": True, "version": version}


# --- Approvals ------------------------------------------------------------------------------


@handles("ApprovalRequest")
def approval_request(peer: PeerActor, body: dict) -> dict:
    """The initiating node asks this node, a source party, to approve a disclosure plan."""
    shared = _project_owned_by(peer, body)
    me = projects.self_node()
    party = wire.node_name(body.get("party"))
    if party != me.name:
        raise refuse(
            translatable(
                "the request is for %(party)s's approval, not %(node)s's", party=party, node=me.name
            )
        )
    replica = PipelineReplica.objects.filter(
        origin=peer.node, remote_id=wire.int_field(body, "pipeline", 1)
    ).first()
    if replica is None or replica.pipeline.project_id != shared.project.pk:
        raise refuse(translatable("that pipeline was not replicated to this node"))
    remote_id = wire.int_field(body, "approval", 1)
    fingerprint = text_field(body, "fingerprint", 64)
    if not FINGERPRINT.match(fingerprint):
        raise EnvelopeError(translatable("the plan's fingerprint is not 64 hex digits"))
    plan = _owner_view(wire.document_field(body, "plan"), fingerprint)
    requester = wire.stated_name(body, "requested_by")
    existing = ApprovalReplica.objects.filter(origin=peer.node, remote_id=remote_id).first()
    if existing is not None:
        return {"approval": "known"}
    approval = Approval.objects.create(
        pipeline=replica.pipeline,
        project=shared.project,
        party=me.name,
        party_node=me,
        fingerprint=fingerprint,
        plan=plan,
        origin_node=peer.name,
        origin_user=requester,
    )
    ApprovalReplica.objects.create(approval=approval, origin=peer.node, remote_id=remote_id)
    record(
        peer.actor,
        Action.APPROVAL_REQUEST,
        target=approval,
        node=me,
        pipeline=replica.pipeline_id,
        fingerprint=fingerprint,
        entries=len(plan["entries"]),
        requested_by=requester,  # as the initiator states it
    )
    return {"approval": "received"}


def _owner_view(plan: dict, fingerprint: str) -> dict:
    """The plan as the source party's approvers see it: entries and their sentences.

    Authorisation ids are the initiator's and mean nothing here: they are dropped (the
    initiator's fingerprint already changes when an authorisation is revoked).
    """
    entries, sentences = plan.get("entries"), plan.get("sentences")
    if not isinstance(entries, list) or not isinstance(sentences, list):
        raise EnvelopeError(translatable("the plan needs its entries and their sentences"))
    if len(entries) != len(sentences) or not all(isinstance(s, str) for s in sentences):
        raise EnvelopeError(translatable("the plan needs one sentence per entry"))
    if not all(isinstance(entry, dict) for entry in entries):
        raise EnvelopeError(translatable("a plan entry is a map"))
    return {
        "fingerprint": fingerprint,
        "entries": entries,
        "sentences": sentences,
        "authorizations": [],
    }


@handles("ApprovalDecision")
def approval_decision(peer: PeerActor, body: dict) -> dict:
    """A source party's decision on an approval this node requested from it."""
    approval = Approval.objects.filter(pk=wire.int_field(body, "approval", 1)).first()
    if approval is None or not _owned_here(getattr(approval.project, "shared", None)):
        raise refuse(translatable("this node requested no such approval"))
    if approval.party_node_id != peer.node.pk:
        raise refuse(
            translatable(
                "%(peer)s may not decide for %(party)s: only its own node does",
                peer=peer.name,
                party=approval.party,
            )
        )
    if text_field(body, "fingerprint", 64) != approval.fingerprint:
        raise refuse(translatable("the decision is for another plan than the one requested"))
    status = wire.choice_field(body, "status", (Approval.Decision.APPROVED, "rejected"))
    comment = wire.optional_text(body, "comment", 2000)
    decided_by = wire.stated_name(body, "decided_by")
    if approval.status == status:
        return {"status": status}
    approval.status, approval.comment = status, comment.strip()
    approval.decided_by, approval.decided_at = None, timezone.now()
    # Shown as "bob_admin (at node bob)": bob's node is who decided; the name, as it says.
    approval.decision_node, approval.decision_user = peer.name, decided_by
    fields = ["status", "comment", "decided_by", "decided_at", "decision_node", "decision_user"]
    approval.save(update_fields=fields)
    record(
        peer.actor,
        Action.APPROVAL_APPROVE if status == Approval.Decision.APPROVED else Action.APPROVAL_REJECT,
        target=approval,
        node=peer.node,
        decided_by=decided_by,
        pipeline=approval.pipeline_id,
        fingerprint=approval.fingerprint,
        comment=approval.comment[:500],
    )
    transaction.on_commit(lambda: consent.approval_decided.send(sender=Approval, approval=approval))
    return {"status": status}
