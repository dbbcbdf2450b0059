"""Owner consent: approval requests bound to a disclosure plan's fingerprint.

A source party must consent to a run whose plan discloses anything derived from its data to
another party, unless its standing policy allows every such entry (`decision == "allow"`).
Consent is an `Approval` of that party for (pipeline, plan fingerprint):

- a re-run of the same plan reuses it; any change to what flows (or a revoked, re-granted
  authorisation, whose id is part of the fingerprint) makes a new fingerprint and asks again;
- a user of the source party who may decide (its node admins, or users holding the
  `workflows.decide_approval` permission) consents by starting the run themselves;
- the executor checks consent again when the run starts executing (`missing_consent`), so a
  run can only ever execute the exact plan its owners approved; a rejection (or a withdrawn
  approval) revokes the runs started on the approval (`workflows.revocation`).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from workflows.actors import Actor
from workflows.disclosure.policy import ASK
from workflows.disclosure.words import for_owner
from workflows.models import Approval, Pipeline
from workflows.ports import ProjectFacts, console_port

POLICY = "policy"
DECIDE_PERMISSION = "workflows.decide_approval"
# Sent with `approval` after each decision, here or replicated from the party's node: a
# rejection stops the runs started on the approval (`workflows.revocation.on_approval_decided`).
approval_decided = Signal()


class ConsentMissing(Exception):
    """The run needs approvals that are pending (or were rejected); nothing was started."""

    def __init__(self, approvals: list[Approval]):
        self.approvals = approvals
        self.rejected = [a for a in approvals if a.status == Approval.Decision.REJECTED]
        parties = ", ".join(sorted({a.party for a in approvals}))
        if self.rejected:
            message = _("the disclosure plan was rejected by %(parties)s") % {"parties": parties}
        else:
            message = _(
                "the run waits for the approval of %(parties)s (disclosure of their data)"
            ) % {"parties": parties}
        super().__init__(message)


def may_decide(user, node_id: int) -> bool:
    """Whether `user` decides on disclosures of node `node_id`'s data."""
    if not getattr(user, "is_authenticated", False) or user.node_id != node_id:
        return False
    return bool(getattr(user, "is_node_admin", False) or user.has_perm(DECIDE_PERMISSION))


def asked(plan, party: str) -> list:
    """The plan's entries from `party` that its policy leaves to an approval."""
    return [entry for entry in plan.from_source(party) if entry.decision == ASK]


def consent_states(pipeline: Pipeline, plan) -> dict[str, dict]:
    """For every source party of the plan: "policy", or its approval's status and id."""
    approvals = {
        a.party: a for a in Approval.objects.filter(pipeline=pipeline, fingerprint=plan.fingerprint)
    }
    states = {}
    for party in plan.sources():
        approval = approvals.get(party)
        if not asked(plan, party):
            states[party] = {"state": POLICY, "approval": None}
        elif approval is None:
            states[party] = {"state": "not_requested", "approval": None}
        else:
            states[party] = {"state": approval.status, "approval": approval.pk}
    return states


def missing_consent(pipeline: Pipeline, plan) -> list[str]:
    """Parties whose approval of this exact plan is needed and not given."""
    states = consent_states(pipeline, plan)
    return [p for p, s in states.items() if s["state"] not in (POLICY, Approval.Decision.APPROVED)]


def obtain(actor: Actor, pipeline: Pipeline, plan, project: ProjectFacts) -> dict[str, int | str]:
    """Consent of every source party: {party: approval id or "policy"}.

    Missing approvals are requested (or given, when the requester may decide for that party);
    raises ConsentMissing listing the pending or rejected approvals.
    """
    consents: dict[str, int | str] = {}
    waiting = []
    for party in plan.sources():
        if not asked(plan, party):
            consents[party] = POLICY
            continue
        approval = _approval(actor, pipeline, plan, party, project)
        if approval.status == Approval.Decision.APPROVED:
            consents[party] = approval.pk
        else:
            waiting.append(approval)
    if waiting:
        raise ConsentMissing(waiting)
    return consents


def owner_view(plan, party: str) -> dict:
    """What the source party's approvers see: its entries, as data and as sentences."""
    entries = [entry.to_dict() for entry in plan.from_source(party)]
    authorizations = sorted(
        d["authorization"] for d in plan.datasets.values() if d["authorization"] is not None
    )
    return {
        "fingerprint": plan.fingerprint,
        "entries": entries,
        "sentences": for_owner(entries),
        "authorizations": authorizations,
    }


def voided(approvals) -> set[int]:
    """Ids of the approvals whose plan read an authorisation that is no longer active (a
    revoked authorisation voids them: their fingerprint can never match a plan again)."""
    active: dict[int, set] = {}
    void = set()
    for approval in approvals:
        if approval.project_id not in active:
            sources = console_port().sources(approval.project_id).values()
            active[approval.project_id] = {source.authorization_id for source in sources}
        if set(approval.plan.get("authorizations", [])) - active[approval.project_id]:
            void.add(approval.pk)
    return void


def _approval(actor: Actor, pipeline, plan, party: str, project: ProjectFacts) -> Approval:
    node_id = project.parties[party]
    starter_decides = may_decide(actor.user, node_id)
    existing = Approval.objects.filter(
        pipeline=pipeline, party=party, fingerprint=plan.fingerprint
    ).first()
    if existing is not None:
        if existing.status == Approval.Decision.PENDING and starter_decides:
            return decide(actor, existing, True, "approved by starting the run")
        return existing
    try:
        with transaction.atomic():
            approval = Approval.objects.create(
                pipeline=pipeline,
                project_id=project.id,
                party=party,
                party_node_id=node_id,
                fingerprint=plan.fingerprint,
                plan=owner_view(plan, party),
                requested_by=actor.user,
                status=Approval.Decision.APPROVED if starter_decides else Approval.Decision.PENDING,
                decided_by=actor.user if starter_decides else None,
                decided_at=timezone.now() if starter_decides else None,
                comment="approved by starting the run" if starter_decides else "",
            )
    except IntegrityError:  # a concurrent start created it
        return Approval.objects.get(pipeline=pipeline, party=party, fingerprint=plan.fingerprint)
    action = "approval_approve" if starter_decides else "approval_request"
    console_port().audit(
        actor,
        action,
        approval,
        node_id,
        pipeline=pipeline.pk,
        fingerprint=plan.fingerprint,
        entries=len(approval.plan["entries"]),
    )
    return approval


class DecisionError(ValueError):
    """The decision cannot be taken (not an approver, or nothing would change)."""


class NotApprover(DecisionError):
    """The user does not decide for the approval's party (the API answers 403)."""


class AlreadyDecided(DecisionError):
    """The approval already has this decision (the API answers 409)."""


def decide(actor: Actor, approval: Approval, approve: bool, comment: str) -> Approval:
    """Approve or reject (also: withdraw an approval, or approve after a rejection).

    Only a user of the approval's party who may decide (`may_decide`) does: anyone else,
    peer nodes included, gets NotApprover."""
    if not may_decide(actor.user, approval.party_node_id):
        raise NotApprover(
            _(
                "only node admins of %(party)s (or its users with the approver right) decide "
                "on disclosures of its data"
            )
            % {"party": approval.party}
        )
    status = Approval.Decision.APPROVED if approve else Approval.Decision.REJECTED
    if approval.status == status:
        raise AlreadyDecided(
            _("approval #%(id)s is already %(status)s")
            % {"id": approval.pk, "status": status.label}
        )
    approval.status, approval.comment = status, comment.strip()
    approval.decided_by, approval.decided_at = actor.user, timezone.now()
    approval.save(update_fields=["status", "comment", "decided_by", "decided_at"])
    console_port().audit(
        actor,
        "approval_approve" if approve else "approval_reject",
        approval,
        approval.party_node_id,
        pipeline=approval.pipeline_id,
        fingerprint=approval.fingerprint,
        comment=approval.comment[:500],
    )
    approval_decided.send(sender=Approval, approval=approval)
    return approval
