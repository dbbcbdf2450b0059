"""The demo across real nodes: each step runs at ONE node, acting as that node's admin.

`make network` and the three-node tests drive the steps in this order
(`console.nodes.devnet.load_demo`), with `manage.py network_demo STEP... --user USER` at the
node named (bob's and carol's steps at the same time):

1. `dataset` at every node: its own demo table only (alice's bank customers with the label,
   bob's shopping behaviour, carol's insurance policies), through the upload path.
2. `project` at alice: creates "Joint credit risk" and invites bob and carol (a proposal each;
   the invitation reaches their message centre).
3. `accept` at bob and carol: the admin accepts the invitation; the node gets its copy.
4. `authorise` at every node: its own dataset to the project, with the demo's column roles and
   standing policy. The schema, roles and policy (never rows) are published to the other
   members.
5. `pipeline` at alice: the demo pipeline over alice's dataset and bob's and carol's published
   ones (cross-node keys, `console.federation.sources`), validated, saved (replicated to the
   members read-only), and its disclosure plan's consents obtained: the demo's standing
   policies allow exactly what it discloses (`console.demo.pipeline`), so it asks nobody; a
   plan they do not allow gets its approvals requested (alice's given by her admin, bob's and
   carol's sent to their nodes).
6. `approve` at bob and carol: the admin approves any request of the demo pipeline's plan that
   reached the node (none while the standing policies allow the plan).

With `make network --dealer`, dave (`DEALER`, paired with the three, member of nothing) then
serves SEMI2K's Beaver triples of the demo project (`console.federation.dealers`):

7. `propose_dealer` at alice: the owner's admin proposes dave as the project's dealer node.
8. `accept_dealer` at bob, then at carol: the admin accepts that proposal in the message
   center; once both accepted, alice sends every member the project's state naming dave.

Every step is idempotent: what exists is kept, so `make network` can run again over its data
directories. Messages go out over the node links at once (`console.federation.outbox`); a step
fails, naming the peer and method, when a message of its could not be delivered.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError

from console.accounts.models import User
from console.datasets.models import Dataset
from console.demo.data import DemoTable, demo_tables
from console.demo.loading import (
    DemoPipelineInvalid,
    authorise_table,
    save_checked_pipeline,
    upload_table,
)
from console.demo.pipeline import PIPELINE_DESCRIPTION, PIPELINE_NAME, demo_graph
from console.federation import dealers, projects
from console.federation.models import (
    Ballot,
    Decision,
    OutgoingMessage,
    Proposal,
    RemoteDataset,
)
from console.federation.outbox import deliver_pending
from console.federation.sources import remote_key
from console.nodes.models import Node
from console.projects import services as project_services
from console.projects.models import Project
from workflows import services as workflow_services
from workflows.actors import Actor
from workflows.disclosure import consent
from workflows.models import Approval, Pipeline
from workflows.ports import console_port

PROJECT_NAME = "Joint credit risk"
PROJECT_DESCRIPTION = (
    "Alice Bank, Bob Shop and Carol Insurance train a default-risk model on their shared "
    "customers; each runs its own PrivPad node and keeps its data there."
)
MEMBERS = ("bob", "carol")  # invited by alice, the initiator
DEALER = "dave"  # the demo project's dealer node with `make network --dealer`


class DemoStepError(Exception):
    """A step cannot be done (yet): the message says what is missing and where."""


def run_step(step: str, username: str) -> str:
    """Run `step` at this node as `username` (a node admin here); a line saying what it did."""
    user = User.objects.filter(username=username, node__is_self=True).first()
    if user is None:
        raise DemoStepError(f"no user '{username}' of this node: create the node admin first")
    before = OutgoingMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    try:
        done = STEP_FUNCTIONS[step](user)
    except (ValidationError, PermissionDenied) as error:
        messages = getattr(error, "messages", None) or [str(error)]
        raise DemoStepError(f"step '{step}': {'; '.join(messages)}") from None
    _delivered_since(before)
    return f"{user.node.name}: {done}"


def own_table(node: Node) -> DemoTable:
    tables = {table.party: table for table in demo_tables()}
    if node.name not in tables:
        raise DemoStepError(f"the demo has no dataset for node '{node.name}'")
    return tables[node.name]


def dataset(user: User) -> str:
    table = own_table(user.node)
    existed = Dataset.objects.filter(node=user.node, name=table.name).exists()
    upload_table(user, table)
    return f"dataset {table.name} {'kept' if existed else 'uploaded'}"


def project(user: User) -> str:
    found = _project()
    actor = Actor.for_user(user)
    if found is None:
        found = project_services.create_project(actor, PROJECT_NAME, PROJECT_DESCRIPTION)
    invited = []
    for name in MEMBERS:
        node = Node.objects.filter(name=name).first()
        if node is None:
            raise DemoStepError(f"this node is not paired with {name}: pair the nodes first")
        asked = Proposal.objects.filter(project=found, subject=node, status="pending").exists()
        if not found.has_member(node) and not asked:
            projects.invite_node(actor, found, node)
            invited.append(name)
    return f"project '{PROJECT_NAME}', invited: {', '.join(invited) or 'nobody new'}"


def accept(user: User) -> str:
    if _project() is not None:
        return f"already a member of '{PROJECT_NAME}'"
    ballot = Ballot.objects.filter(project_name=PROJECT_NAME, status="pending").first()
    if ballot is None:
        raise DemoStepError(f"no invitation to '{PROJECT_NAME}' has reached this node")
    projects.decide_ballot(Actor.for_user(user), ballot, True)
    if _project() is None:
        raise DemoStepError(f"accepted, but '{PROJECT_NAME}' has not reached this node")
    return f"accepted the invitation to '{PROJECT_NAME}'"


def authorise(user: User) -> str:
    table, found = own_table(user.node), _require_project()
    dataset = Dataset.objects.filter(node=user.node, name=table.name).first()
    if dataset is None:
        raise DemoStepError(f"upload {table.name} first (step 'dataset')")
    new = authorise_table(user, table, dataset, found)
    return f"{table.name} {'authorised to' if new else 'already authorised to'} '{PROJECT_NAME}'"


def pipeline(user: User) -> str:
    found = _require_project()
    existing = Pipeline.objects.filter(project=found, name=PIPELINE_NAME).first()
    saved = existing or _save_pipeline(user, found)
    checked = workflow_services.validate_pipeline(saved)
    facts = console_port().project(found.pk)
    done = f"pipeline '{PIPELINE_NAME}' {'kept' if existing else 'saved and replicated'}"
    try:
        consents = consent.obtain(Actor.for_user(user), saved, checked.plan, facts)
    except consent.ConsentMissing as missing:
        waiting = ", ".join(sorted({approval.party for approval in missing.approvals}))
        return f"{done}; its disclosure plan waits for the approval of {waiting}"
    return f"{done}; its disclosure plan is {_consented_by(consents)}"


def _consented_by(consents: dict) -> str:
    """ "allowed by the standing policies of bob, carol and approved by alice", as it is."""
    by_policy = sorted(party for party, how in consents.items() if how == consent.POLICY)
    approved = sorted(party for party, how in consents.items() if how != consent.POLICY)
    said = [f"allowed by the standing policies of {', '.join(by_policy)}"] if by_policy else []
    said += [f"approved by {', '.join(approved)}"] if approved else []
    return " and ".join(said) or "empty: it discloses nothing to another party"


def _save_pipeline(user: User, found: Project) -> Pipeline:
    datasets = {user.node.name: Dataset.objects.get(node=user.node, name=own_table(user.node).name)}
    ids = {name: dataset.pk for name, dataset in datasets.items()}
    for name in MEMBERS:
        remote = RemoteDataset.objects.filter(project=found, node__name=name, revoked_at=None)
        if not remote.exists():
            raise DemoStepError(f"{name}'s dataset is not authorised to '{PROJECT_NAME}' yet")
        ids[name] = remote_key(remote.latest("published_at"))
    try:
        return save_checked_pipeline(
            user, found, PIPELINE_NAME, PIPELINE_DESCRIPTION, demo_graph(ids)
        )
    except DemoPipelineInvalid as problems:
        raise DemoStepError(f"the demo pipeline does not validate here: {problems}") from None


def approve(user: User) -> str:
    if _project() is None:
        raise DemoStepError(f"this node is not a member of '{PROJECT_NAME}'")
    if not Pipeline.objects.filter(name=PIPELINE_NAME, replica__isnull=False).exists():
        raise DemoStepError(f"'{PIPELINE_NAME}' has not been replicated to this node yet")
    asked = Approval.objects.filter(
        pipeline__name=PIPELINE_NAME, party=user.node.name, status=Approval.Decision.PENDING
    )
    if not asked.exists():
        if _approved(user.node):
            return f"'{PIPELINE_NAME}' is already approved here"
        return f"no request of '{PIPELINE_NAME}' waits for this node's decision"
    for approval in asked:
        consent.decide(Actor.for_user(user), approval, True, "Demo: approved as the plan reads")
    return f"approved {len(asked)} request(s) of '{PIPELINE_NAME}'"


def propose_dealer(user: User) -> str:
    found = _require_project()
    if dealers.dealer_of(found) == DEALER:
        return f"'{PROJECT_NAME}' already takes its Beaver triples from the dealer node {DEALER}"
    dealer = Node.objects.filter(name=DEALER).first()
    if dealer is None:
        raise DemoStepError(f"this node is not paired with {DEALER}: pair the nodes first")
    waiting = Proposal.objects.filter(
        project=found, kind=Proposal.Kind.DEALER, subject=dealer, status=Decision.PENDING
    )
    if not waiting.exists():  # another pending change of source is refused by `set_dealer`
        dealers.set_dealer(Actor.for_user(user), found, dealer)
    return f"proposed the dealer node {DEALER} for '{PROJECT_NAME}'; the members vote"


def accept_dealer(user: User) -> str:
    found = _require_project()
    if dealers.dealer_of(found) == DEALER:
        return f"'{PROJECT_NAME}' already takes its Beaver triples from the dealer node {DEALER}"
    ballots = Ballot.objects.filter(
        project_name=PROJECT_NAME, kind=Proposal.Kind.DEALER, subject_name=DEALER
    )
    ballot = ballots.filter(status=Decision.PENDING).first()
    if ballot is None:
        if ballots.filter(status=Decision.ACCEPTED, outcome=Decision.PENDING).exists():
            return f"accepted the dealer node {DEALER}; the other members' votes are awaited"
        raise DemoStepError(
            f"no proposal of the dealer node {DEALER} for '{PROJECT_NAME}' has reached this "
            "node (step 'propose_dealer' at the owner first)"
        )
    projects.decide_ballot(Actor.for_user(user), ballot, True)
    return f"accepted the dealer node {DEALER} for '{PROJECT_NAME}'"


def _approved(node: Node) -> bool:
    approved = Approval.objects.filter(pipeline__name=PIPELINE_NAME, party=node.name)
    return approved.filter(status=Approval.Decision.APPROVED).exists()


def _project() -> Project | None:
    return Project.objects.filter(name=PROJECT_NAME).first()


def _require_project() -> Project:
    found = _project()
    if found is None:
        raise DemoStepError(f"this node is not a member of '{PROJECT_NAME}' yet")
    return found


def _delivered_since(before: int) -> None:
    """Every message the step sent reached its peer (those that failed are tried again)."""
    sent = OutgoingMessage.objects.filter(pk__gt=before)
    undelivered = sent.exclude(state=OutgoingMessage.State.DELIVERED)
    if undelivered.exists():
        deliver_pending()
    failed = [
        f"{m.method} to {m.peer.name}: {m.last_error or m.state}"
        for m in undelivered.select_related("peer")
    ]
    if failed:
        raise DemoStepError("messages not delivered: " + "; ".join(failed))


STEP_FUNCTIONS = {
    "dataset": dataset,
    "project": project,
    "accept": accept,
    "authorise": authorise,
    "pipeline": pipeline,
    "approve": approve,
    "propose_dealer": propose_dealer,
    "accept_dealer": accept_dealer,
}
