"""SEMI2K's source of Beaver triples in a shared project's network runs: a project setting.

Scheme and trust (`core.mpc.correlated`, `workflows.components.trust_words`): by default the
first party of each SPU generates every triple (`TrustedFirstParty`), so the other parties
trust that party not to look at them; with a dealer node (`TrustedThirdParty`) a third
installation, no member of the project, generates them: it is sent no input, share, graph or
result, and the parties trust it not to collude with any of them.

Who decides: which source a run uses is a trust decision of every party, so it is a project
setting, not a choice of the run's initiator, and it is voted like a membership change. The
owner node proposes it (`set_dealer`: the dealer must be a node paired with it, not a member
of the project); every other member accepts or declines in its message center (`Proposal`
kind "dealer", a member refuses a proposal naming one of its members); once all accepted it
travels to every member with the project's state (`wire.ProjectState.dealer`), shown on each
member's project page. At each run every party checks the dealer the initiator names against
its own copy and refuses a mismatch, pins the dealer's certificate from its own pairing
(`engine`), and the dealer node itself accepts only if its operator enabled it
(`console.federation.dealing`).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from console.federation import projects, publish
from console.federation.models import Proposal, RunTripleSource, SharedProject
from console.nodes.models import Node
from console.projects.models import Project
from console.projects.services import ensure_active, ensure_owner
from workflows.actors import Actor
from workflows.messages import Message, translatable
from workflows.models import Run


def dealer_of(project: Project) -> str:
    """The project's dealer node as this node's copy names it; "" for the trusted first party."""
    shared = SharedProject.objects.filter(project=project).first()
    return shared.dealer if shared is not None else ""


def dealer_of_run(run: Run) -> str:
    """The dealer node this party agreed to for `run` ("": the trusted first party)."""
    source = RunTripleSource.objects.filter(run=run).first()
    return source.dealer if source is not None else ""


def set_dealer(actor: Actor, project: Project, dealer: Node | None) -> Proposal | None:
    """The owner proposes the project's dealer node (None: the trusted first party); every
    other member votes in its message center, and once all accepted every member is sent the
    new state (`projects.tally`). With no other member it applies at once. Returns the
    proposal, or None when the project already uses that source. ValidationError naming the
    problem: not the owner node, not network mode, an archived project, a node not paired
    (or its route disabled) or a member, a change already waiting for votes."""
    ensure_owner(actor, project)
    projects.ensure_network()
    ensure_active(project)
    if project.owner_node_id != projects.self_node().pk:
        raise ValidationError(
            _("Only the project's owner node chooses its source of Beaver triples."),
            code="not_owner",
        )
    name = "" if dealer is None else _checked_dealer(project, dealer)
    if projects.share(project).dealer == name:
        return None
    voters = [member.name for member in publish.other_members(project)]
    return projects.propose(actor, project, Proposal.Kind.DEALER, dealer, voters)


def _checked_dealer(project: Project, dealer: Node) -> str:
    projects.ensure_reachable(dealer)
    if project.has_member(dealer):
        raise ValidationError(
            _(
                "Node '%(node)s' is a member of this project, so it computes in its runs: a "
                "dealer node must be a third node that is no party."
            )
            % {"node": dealer.name},
            code="dealer_is_party",
        )
    return dealer.name


def source_words(dealer: str) -> Message:
    """The source of triples in words: "the dealer node <name>" or "the trusted first party"."""
    if dealer:
        return translatable("the dealer node %(dealer)s", dealer=dealer)
    return translatable("the trusted first party")


def mismatch(named: str, held: str) -> Message | None:
    """Why a run naming `named` as its dealer is refused by a party whose copy names `held`;
    None when they agree."""
    if named == held:
        return None
    return translatable(
        "the run's Beaver triples come from %(named)s, but this node's copy of the project "
        "names %(held)s: nothing is started (the project's owner changes the source for "
        "every member, not for one run)",
        named=source_words(named),
        held=source_words(held),
    )
