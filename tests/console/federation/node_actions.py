"""What a node's users do, run inside that node's own process (`NodeInstall.act`).

Each function acts through the console's services as the named user of this installation and
returns JSON-friendly facts read from this node's own database, so a test can drive alice, bob
and carol as three institutions would, and see only what each one holds.
"""

from __future__ import annotations

import json
import sys

from django.core.files.uploadedfile import SimpleUploadedFile

from console.accounts.models import User
from console.datasets import services as datasets
from console.datasets.models import Authorization
from console.federation import projects
from console.federation.models import Ballot, OutgoingMessage, RemoteDataset, SharedProject
from console.nodes.models import Node
from console.projects import services as project_services
from console.projects.models import Project
from workflows.actors import Actor
from workflows.disclosure import consent
from workflows.messages import render
from workflows.models import Approval, Pipeline


def _as(username: str) -> Actor:
    return Actor.for_user(User.objects.get(username=username))


def make_admin(username: str, password: str = "x" * 16) -> dict:
    me = Node.objects.get(is_self=True)
    User.objects.create_user(username=username, password=password, node=me, role="admin")
    return {"node": me.name}


def create_project(username: str, name: str) -> dict:
    project = project_services.create_project(_as(username), name, "Credit scoring")
    return {"pk": project.pk}


def invite(username: str, project_name: str, node: str) -> dict:
    project = Project.objects.get(name=project_name)
    proposal = projects.invite_node(_as(username), project, Node.objects.get(name=node))
    return {"votes": proposal.votes, "status": proposal.status}


def ballots() -> list[dict]:
    return [
        {"project": b.project_name, "kind": b.kind, "subject": b.subject_name,
         "owner": b.owner.name, "status": b.status, "outcome": b.outcome}
        for b in Ballot.objects.order_by("received_at")
    ]  # fmt: skip


def vote(username: str, project_name: str, accept: bool) -> dict:
    ballot = Ballot.objects.get(project_name=project_name, status="pending")
    ballot, message = projects.decide_ballot(_as(username), ballot, accept)
    return {"status": ballot.status, "delivered": message.state, "reply": message.reply}


def project(name: str) -> dict | None:
    found = Project.objects.filter(name=name).select_related("owner_node").first()
    if found is None:
        return None
    shared = SharedProject.objects.filter(project=found).first()
    return {
        "owner": found.owner_node.name,
        "status": found.status,
        "members": sorted(m.node.name for m in found.memberships.select_related("node")),
        "version": shared.version if shared else None,
        "uid": str(shared.uid) if shared else None,
    }


def upload_and_authorise(username: str, project_name: str, csv: str, roles: dict) -> dict:
    upload = SimpleUploadedFile("data.csv", csv.encode(), content_type="text/csv")
    dataset = datasets.create_dataset(_as(username), upload, "orders")
    target = Project.objects.get(name=project_name)
    authorization = datasets.authorize_dataset(_as(username), dataset, target, roles)
    return {"dataset": dataset.pk, "authorization": authorization.pk}


def revoke(username: str, authorization: int) -> dict:
    datasets.revoke_authorization(_as(username), Authorization.objects.get(pk=authorization))
    return {"revoked": authorization}


def remote_datasets(project_name: str) -> list[dict]:
    return [
        {"node": d.node.name, "name": d.name, "columns": d.columns, "roles": d.column_roles,
         "active": d.revoked_at is None}
        for d in RemoteDataset.objects.filter(project__name=project_name)
    ]  # fmt: skip


def save_pipeline(project_name: str, name: str, new_name: str = "") -> dict:
    target = Project.objects.get(name=project_name)
    pipeline, _ = Pipeline.objects.get_or_create(project=target, name=name, defaults={"graph": {}})
    if new_name:
        pipeline.name = new_name
        pipeline.save()
    return {"pk": pipeline.pk}


def pipelines(project_name: str) -> list[dict]:
    found = Pipeline.objects.filter(project__name=project_name).select_related("replica__origin")
    return [
        {"name": p.name, "replica_of": p.replica.origin.name if hasattr(p, "replica") else None,
         "version": p.replica.version if hasattr(p, "replica") else None}
        for p in found
    ]  # fmt: skip


def pipeline_pk(name: str) -> int:
    return Pipeline.objects.get(name=name).pk


def ask_approval(project_name: str, pipeline_name: str, party: str) -> dict:
    """What `consent.obtain` does when a run needs `party`'s approval: a pending request."""
    pipeline = Pipeline.objects.get(project__name=project_name, name=pipeline_name)
    entry = {"source": party, "recipient": "alice", "form": "model", "what": "a model"}
    approval = Approval.objects.create(
        pipeline=pipeline,
        project=pipeline.project,
        party=party,
        party_node=Node.objects.get(name=party),
        fingerprint="c" * 64,
        plan={"fingerprint": "c" * 64, "entries": [entry],
              "sentences": [f"alice receives a model trained on {party}'s columns."],
              "authorizations": []},
    )  # fmt: skip
    return {"pk": approval.pk}


def approvals() -> list[dict]:
    return [
        {
            "party": a.party,
            "status": a.status,
            "comment": a.comment,
            "sentences": a.plan["sentences"],
        }
        for a in Approval.objects.order_by("pk")
    ]


def decide(username: str, approve: bool, comment: str) -> dict:
    approval = Approval.objects.get(status="pending")
    consent.decide(_as(username), approval, approve, comment)
    return {"status": approval.status}


def consent_state(pipeline_name: str, party: str) -> str:
    approval = Approval.objects.get(pipeline__name=pipeline_name, party=party)
    return approval.status


def redeliver_last(method: str) -> dict:
    """As if the reply to the last `method` message had been lost: send it again, same id."""
    from console.federation.outbox import deliver_pending

    message = OutgoingMessage.objects.filter(method=method, state="delivered").last()
    OutgoingMessage.objects.filter(pk=message.pk).update(state="pending")
    deliver_pending()
    message.refresh_from_db()
    return {"state": message.state, "reply": message.reply, "attempts": message.attempts}


def retry_pending() -> list[dict]:
    """What the node service's health loop does at each interval."""
    from console.federation.outbox import deliver_pending

    deliver_pending()
    return outbox()


def outbox() -> list[dict]:
    return [
        {"method": m.method, "peer": m.peer.name, "state": m.state, "error": render(m.last_error)}
        for m in OutgoingMessage.objects.all()
    ]


def set_dealer(username: str, project_name: str, dealer: str) -> dict | None:
    """The owner proposes the project's dealer node ("": the trusted first party)."""
    from console.federation import dealers

    node = Node.objects.get(name=dealer) if dealer else None
    project = Project.objects.get(name=project_name)
    proposal = dealers.set_dealer(_as(username), project, node)
    return None if proposal is None else {"status": proposal.status, "votes": proposal.votes}


def main(name: str, arguments: str) -> None:
    result = globals()[name](*json.loads(arguments))
    sys.stdout.write("\nRESULT " + json.dumps(result) + "\n")
