"""What the project page and the message center show of shared projects (network mode)."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from console.federation import dealers, projects, publish
from console.federation.models import (
    Ballot,
    Decision,
    Proposal,
    RemoteDataset,
    RunTripleSource,
)
from console.nodes.models import Node
from console.pages.roles import ROLE_LABELS
from workflows.components.disclosure import Form
from workflows.disclosure.policy import ALLOW, DECISION_WORDS, FORM_WORDS, Policy

register = template.Library()


@register.simple_tag
def federation_panel(project, user) -> dict:
    """Members' nodes, open proposals, remote datasets and who may be invited."""
    if not publish.network_mode():
        return {}
    me = publish.self_node()
    shared = publish.shared_of(project)
    members = {m.node.name: m.node for m in project.memberships.select_related("node")}
    names = (shared.member_names if shared else None) or list(members)
    is_owner = me is not None and project.owner_node_id == me.pk
    may_manage = is_owner and not project.is_archived and not user.is_read_only
    return {
        "on": True,
        "shared": shared,
        "is_owner": is_owner,
        "may_manage": may_manage,
        "members": [_member(name, members.get(name), project, me) for name in names],
        "proposals": list(Proposal.objects.filter(project=project).select_related("subject")[:20])
        if is_owner
        else [],
        "invitable": _invitable(project) if may_manage else [],
        "remote_datasets": [_remote(d) for d in _active_remote(project)],
    }


def _member(name: str, node: Node | None, project, me) -> dict:
    route = node.route_or_none() if node is not None else None
    return {
        "name": name,
        "node": node,
        "is_owner": node is not None and node.pk == project.owner_node_id,
        "is_self": node is not None and node == me,
        "paired": route is not None,
        "enabled": route is not None and route.enabled,
    }


def _invitable(project) -> list[Node]:
    """Paired nodes that are no member, not voted on, and not the project's dealer node (a
    dealer computes nothing: `console.federation.projects.invite_node` refuses it)."""
    waiting = Proposal.objects.filter(project=project, status=Decision.PENDING)
    nodes = _paired_non_members(project).exclude(pk__in=waiting.values("subject"))
    dealer = dealers.dealer_of(project)
    return list(nodes.exclude(name=dealer) if dealer else nodes)


def _paired_non_members(project):
    """Nodes paired with this one (an enabled route) that are no member of `project`."""
    return Node.objects.filter(route__isnull=False, route__enabled=True).exclude(
        memberships__project=project
    )


def _active_remote(project):
    return RemoteDataset.objects.filter(project=project, revoked_at__isnull=True).select_related(
        "node"
    )


def _remote(dataset: RemoteDataset) -> dict:
    roles = [
        {
            "column": column["name"],
            "type": column["type"],
            "role": dataset.column_roles.get(column["name"], "protected"),
            "label": ROLE_LABELS.get(dataset.column_roles.get(column["name"], "protected")),
        }
        for column in dataset.columns
    ]
    return {"dataset": dataset, "roles": roles, "policy": policy_in_words(dataset.policy)}


def policy_in_words(published: dict | None) -> list[dict] | None:
    """The owner's standing policy as the panel lists it: [{"what", "decision", "label"}] per
    form of disclosure to other members; None when the owner's node published none."""
    if published is None:
        return None
    policy = Policy.from_dict(published)
    aggregates = _("aggregates of its columns, groups of at least %(k)s rows") % {
        "k": policy.aggregates_min_k
    }
    row_level = FORM_WORDS[Form.ROW_LEVEL]
    if policy.row_level == ALLOW and policy.row_level_to:
        row_level = _("%(what)s, only to %(parties)s") % {
            "what": row_level,
            "parties": ", ".join(policy.row_level_to),
        }
    rows = [
        (FORM_WORDS[Form.IDS], policy.ids),
        (aggregates, policy.aggregates),
        (FORM_WORDS[Form.MODEL], policy.models),
        (row_level, policy.row_level),
        (_("predictions and curves derived from its label"), policy.label_results),
    ]
    return [
        {"what": str(what), "decision": decision, "label": str(DECISION_WORDS[decision])}
        for what, decision in rows
    ]


@register.simple_tag
def project_ballots(user) -> dict:
    """The message center's project invitations and membership votes for this node."""
    if not publish.network_mode() or not publish.sees_node_inbox(user):
        return {}
    ballots = list(Ballot.objects.select_related("owner", "decided_by")[:100])
    return {
        "on": True,
        "may_vote": projects.may_vote(user),
        "pending": [b for b in ballots if b.status == Decision.PENDING],
        "decided": [b for b in ballots if b.status != Decision.PENDING],
    }


@register.simple_tag
def triple_source_panel(project, user) -> dict:
    """SEMI2K's source of Beaver triples as this node's copy names it, and the owner's choice:
    paired nodes with an enabled route that are no member (`console.federation.dealers`)."""
    if not publish.network_mode():
        return {}
    me = publish.self_node()
    dealer = dealers.dealer_of(project)
    node = Node.objects.filter(name=dealer).first() if dealer else None
    route = node.route_or_none() if node is not None else None
    # The owner node's own users choose (`dealers.set_dealer` checks it again).
    is_owner = me is not None and project.owner_node_id == me.pk == user.node_id
    may_choose = is_owner and not project.is_archived and not user.is_read_only
    candidates = _paired_non_members(project) if may_choose else Node.objects.none()
    pending = Proposal.objects.filter(
        project=project, kind=Proposal.Kind.DEALER, status=Decision.PENDING
    ).select_related("subject")
    return {
        "on": True,
        "pending": pending.first() if is_owner else None,
        "dealer": dealer,
        "dealer_node": node,
        "paired": route is not None and route.enabled,
        "may_choose": may_choose,
        "candidates": list(candidates),
    }


@register.simple_tag
def run_triple_source(run_id) -> str:
    """Where a network run's Beaver triples came from, in words; "" for a run of this
    console's own (embedded) engine, which has its own dealer thread."""
    source = RunTripleSource.objects.filter(run_id=run_id).first()
    return "" if source is None else str(dealers.source_words(source.dealer))
