"""Shared projects in network mode: invitations, votes on membership, each node's copy.

The initiating node owns the project and is the one source of its state (name, description,
status, members, numbered by `SharedProject.version`). It proposes membership changes
(`Proposal`): the invited node and the other members vote in their message centers (`Ballot`),
the votes travel back, and once every voter accepted the owner applies the change and sends the
new state to every member (and to a node that left, so its copy stops). One decline closes the
proposal. Members apply a state only from the owner and only when newer than theirs.

Actors (`workflows.actors.Actor`): this node's users propose and vote; the owner applies a
vote in the name of the peer node that cast it (`Actor.peer`), and a member applies the
owner's state in the owner's name.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from console.audit.log import Action, record
from console.datasets.models import Authorization
from console.federation import outbox, publish, wire
from console.federation.models import (
    Ballot,
    Decision,
    OutgoingMessage,
    Proposal,
    RemoteDataset,
    SharedProject,
)
from console.nodes.models import Node
from console.projects.models import Project, ProjectMember
from console.projects.services import ensure_active, ensure_owner
from workflows import revocation
from workflows.actors import Actor
from workflows.messages import translatable

self_node = publish.self_node


def ensure_network() -> None:
    if not publish.network_mode():
        raise ValidationError(
            _("Projects are shared with other nodes only in network mode (PRIVPAD_DEPLOYMENT)."),
            code="not_network",
        )


def state_of(project: Project) -> wire.ProjectState:
    shared = SharedProject.objects.get(project=project)
    members = [m.node.name for m in project.memberships.select_related("node")]
    return wire.ProjectState(
        uid=shared.uid,
        name=project.name,
        description=project.description,
        status=project.status,
        version=max(shared.version, 1),
        members=tuple(members),
        dealer=shared.dealer,
    )


def share(project: Project) -> SharedProject:
    shared, created = SharedProject.objects.get_or_create(project=project)
    if created:
        shared.version = 1
        shared.member_names = [m.node.name for m in project.memberships.select_related("node")]
        shared.save(update_fields=["version", "member_names"])
    return shared


# --- The owner's side -------------------------------------------------------------------------


def invite_node(actor: Actor, project: Project, node: Node) -> Proposal:
    """Propose to add a paired node: it and the other members vote; nothing changes until then."""
    ensure_owner(actor, project)
    ensure_network()
    ensure_active(project)
    if project.owner_node_id != self_node().pk:
        raise ValidationError(_("Only the project's owner node invites nodes."), code="not_owner")
    ensure_reachable(node)
    shared = SharedProject.objects.filter(project=project).first()
    if shared is not None and shared.dealer == node.name:
        raise ValidationError(
            _(
                "Node '%(node)s' is this project's dealer node: a dealer computes nothing and "
                "must not be a party; choose the trusted first party first."
            )
            % {"node": node.name},
            code="dealer_member",
        )
    if project.has_member(node):
        raise ValidationError(
            _("Node '%(node)s' is already a member of this project.") % {"node": node.name},
            code="already_member",
        )
    voters = [m.name for m in publish.other_members(project)] + [node.name]
    return propose(actor, project, Proposal.Kind.ADD, node, voters)


def propose_removal(actor: Actor, project: Project, node: Node) -> Proposal:
    """Propose to remove a member node: the other members (not the owner, not it) vote."""
    ensure_owner(actor, project)
    ensure_network()
    ensure_active(project)
    if node.pk == project.owner_node_id:
        raise ValidationError(
            _("Node '%(node)s' owns the project and cannot leave it.") % {"node": node.name},
            code="owner_member",
        )
    if not project.has_member(node):
        raise ValidationError(
            _("Node '%(node)s' is not a member of this project.") % {"node": node.name},
            code="not_member",
        )
    voters = [m.name for m in publish.other_members(project) if m != node]
    return propose(actor, project, Proposal.Kind.REMOVE, node, voters)


def ensure_reachable(node: Node) -> None:
    route = node.route_or_none()
    if node.is_self or route is None:
        raise ValidationError(
            _("Node '%(node)s' is not a paired peer of this node: pair with it first.")
            % {"node": node.name},
            code="not_paired",
        )
    if not route.enabled:
        raise ValidationError(
            _("The route to node '%(node)s' is disabled: enable it first.") % {"node": node.name},
            code="disabled",
        )


def propose(actor: Actor, project, kind: str, node: Node | None, voters: list[str]) -> Proposal:
    """Propose `kind` about `node` (None: the trusted first party, a dealer proposal only)."""
    pending = Proposal.objects.filter(project=project, status=Decision.PENDING)
    if kind == Proposal.Kind.DEALER and pending.filter(kind=kind).exists():
        raise ValidationError(
            _("A change of the source of Beaver triples is already waiting for votes."),
            code="pending",
        )
    if node is not None and pending.filter(subject=node).exists():
        raise ValidationError(
            _("A proposal about node '%(node)s' is already waiting for votes.")
            % {"node": node.name},
            code="pending",
        )
    with transaction.atomic():
        shared = share(project)
        proposal = Proposal.objects.create(
            project=project,
            kind=kind,
            subject=node,
            votes=dict.fromkeys(voters, Decision.PENDING),
            proposed_by=actor.user,
        )
        body = {
            "project": state_of(project).to_body(),
            "proposal": str(proposal.uid),
            "kind": kind,
            "subject": node.name if node is not None else "",
        }
        for voter in Node.objects.filter(name__in=voters):
            outbox.send(voter, "ProjectPropose", body)
        record(
            actor,
            Action.PROJECT_UPDATE,
            target=project,
            node=project.owner_node,
            proposal=str(proposal.uid),
            change=kind,
            subject=node.name if node is not None else "",
            voters=voters,
            shared=str(shared.uid),
        )
        tally(proposal)
    return proposal


def tally(proposal: Proposal) -> None:
    """Close the proposal once a voter declined or every voter accepted (then apply it)."""
    votes = set(proposal.votes.values())
    if Decision.DECLINED in votes:
        outcome = Decision.DECLINED
    elif votes <= {Decision.ACCEPTED}:
        outcome = Decision.ACCEPTED
    else:
        return
    proposal.status, proposal.closed_at = outcome, timezone.now()
    proposal.save(update_fields=["status", "closed_at"])
    for voter in Node.objects.filter(name__in=list(proposal.votes)):
        outbox.send(voter, "ProposalOutcome", {"proposal": str(proposal.uid), "outcome": outcome})
    if outcome == Decision.ACCEPTED:
        APPLY[proposal.kind](proposal)


def _apply_add(proposal: Proposal) -> None:
    project, node = proposal.project, proposal.subject
    ProjectMember.objects.get_or_create(project=project, node=node)
    record(
        Actor.peer(node),  # the last vote, the invited node's acceptance, completed it
        Action.MEMBER_ADD,
        target=project,
        node=project.owner_node,
        member=node.name,
        proposal=str(proposal.uid),
    )
    broadcast_state(project)
    publish.publish_datasets(project, [node])
    publish.replicate_pipelines(project, [node])


def _apply_removal(proposal: Proposal) -> None:
    project, node = proposal.project, proposal.subject
    ProjectMember.objects.filter(project=project, node=node).delete()
    RemoteDataset.objects.filter(project=project, node=node, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    record(
        Actor.system("federation"),  # the members' votes completed it
        Action.MEMBER_REMOVE,
        target=project,
        node=project.owner_node,
        member=node.name,
        proposal=str(proposal.uid),
    )
    left = translatable("node %(node)s left the project", node=node.name)
    revocation.project_membership_changed(project.pk, left)
    broadcast_state(project, also=[node])


def _apply_dealer(proposal: Proposal) -> None:
    """Every member accepted the source of Beaver triples: the project's, from now on."""
    project, dealer = proposal.project, proposal.subject
    shared = SharedProject.objects.get(project=project)
    shared.dealer = dealer.name if dealer is not None else ""
    shared.save(update_fields=["dealer"])
    record(
        Actor.system("federation"),  # the members' votes completed it
        Action.PROJECT_UPDATE,
        target=project,
        node=project.owner_node,
        dealer=shared.dealer or "trusted first party",
        proposal=str(proposal.uid),
    )
    broadcast_state(project)


APPLY = {
    Proposal.Kind.ADD: _apply_add,
    Proposal.Kind.REMOVE: _apply_removal,
    Proposal.Kind.DEALER: _apply_dealer,
}


def broadcast_state(project: Project, also: list[Node] = ()) -> None:
    """A new version of the project's state, sent to every other member (and `also`)."""
    shared = SharedProject.objects.select_for_update().get(project=project)
    shared.version += 1
    shared.member_names = [m.node.name for m in project.memberships.select_related("node")]
    shared.save(update_fields=["version", "member_names"])
    body = {"project": state_of(project).to_body()}
    for node in [*publish.other_members(project), *also]:
        outbox.send(node, "ProjectState", body)


# --- A member's side --------------------------------------------------------------------------


def may_vote(user) -> bool:
    me = self_node()
    return bool(
        me is not None
        and not getattr(user, "is_read_only", False)
        and (user.is_superuser or (user.node_id == me.pk and user.is_node_admin))
    )


def pending_ballots(user) -> int:
    """Ballots waiting for this node's admins (0 for anyone who does not vote)."""
    if not publish.network_mode() or not may_vote(user):
        return 0
    return Ballot.objects.filter(status=Decision.PENDING).count()


def decide_ballot(actor: Actor, ballot: Ballot, accept: bool) -> tuple[Ballot, OutgoingMessage]:
    """This node's admin accepts or declines; the vote travels to the owner at once."""
    if not may_vote(actor.require_user("vote on projects shared with this node")):
        raise PermissionDenied(_("Only this node's admins vote on projects shared with it."))
    if ballot.status != Decision.PENDING or ballot.outcome != Decision.PENDING:
        raise ValidationError(
            _("This node already decided on the proposal (%(decision)s).")
            % {"decision": ballot.get_status_display()},
            code="decided",
        )
    with transaction.atomic():
        ballot.status = Decision.ACCEPTED if accept else Decision.DECLINED
        ballot.decided_by, ballot.decided_at = actor.user, timezone.now()
        ballot.save(update_fields=["status", "decided_by", "decided_at"])
        body = {"proposal": str(ballot.proposal_uid), "decision": ballot.status}
        message = outbox.send(ballot.owner, "ProjectVote", body)
        record(
            actor,
            Action.PROJECT_UPDATE,
            node=self_node(),
            vote=ballot.status,
            project=ballot.project_name,
            owner=ballot.owner.name,
            proposal=str(ballot.proposal_uid),
        )
    message.refresh_from_db()
    return ballot, message


def apply_state(owner: Node, state: wire.ProjectState) -> Project:
    """The owner's newer state, applied to this node's copy (created on joining).

    Acts for the owner node (a peer): its state is the project's, checked by the handler.
    """
    return _apply_state(Actor.peer(owner), owner, state)


def _apply_state(actor: Actor, owner: Node, state: wire.ProjectState) -> Project:
    me = self_node()
    shared = SharedProject.objects.select_related("project").filter(uid=state.uid).first()
    project = shared.project if shared else Project(owner_node=owner)
    project.name, project.description = state.name, state.description
    left = me.name not in state.members
    project.status = Project.Status.ARCHIVED if left else state.status
    project.save()
    if shared is None:
        shared = SharedProject.objects.create(project=project, uid=state.uid)
    shared.version, shared.member_names = state.version, list(state.members)
    shared.dealer = state.dealer
    shared.save(update_fields=["version", "member_names", "dealer"])
    known = {node.name: node for node in Node.objects.filter(name__in=state.members)}
    before = set(project.memberships.values_list("node__name", flat=True))
    gone = before - set(known)
    project.memberships.filter(node__name__in=gone).delete()
    RemoteDataset.objects.filter(
        project=project, node__name__in=gone, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    for node in known.values():
        ProjectMember.objects.get_or_create(project=project, node=node)
    if left:
        _withdraw_own_datasets(actor, project, me)
        revocation.project_membership_changed(
            project.pk, translatable("%(node)s left the project", node=me.name)
        )
    else:
        joined = [node for name, node in known.items() if name not in before and node != me]
        publish.publish_datasets(project, joined if me.name in before else None)
    return project


def _withdraw_own_datasets(actor: Actor, project: Project, me: Node) -> None:
    """This node left the project: its datasets' authorisations to it end here too."""
    now = timezone.now()
    for authorization in Authorization.objects.filter(
        project=project, dataset__node=me, revoked_at__isnull=True
    ):
        authorization.revoked_at = now
        authorization.save(update_fields=["revoked_at"])
        record(
            actor,
            Action.REVOKE,
            target=authorization,
            node=me,
            reason=f"the owner node {actor.node.name} removed this node from the project",
        )
