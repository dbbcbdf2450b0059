"""A member node launches and records its part of a run (`RunLaunch`, `member_runs`).

This installation is bob's node, with a run alice's node started here (`test_run_start`).
The engine links trust only the certificates bob pinned when pairing, whatever the initiator
sends; the worker's outcome reaches bob's run page through `workflows.state`.
"""

from __future__ import annotations

import pytest

from console.federation import member_runs
from console.federation.engine import engine_network
from console.federation.models import RunReplica
from console.nodes import identity
from console.nodes.link.service import Refused
from core.errors import ConfigError
from tests.console.federation.conftest import deliver
from tests.console.federation.test_run_start import approve, bobs_copy, start_body  # noqa: F401
from workflows.messages import render
from workflows.models import Run, Status
from workflows.party import NodeOutcome, PartyResult

ENGINES = {"alice": "127.0.0.1:7101", "bob": "127.0.0.1:7102"}


@pytest.fixture
def bob_identity(settings, tmp_path):
    settings.NODE_IDENTITY_DIR = tmp_path / "identity"
    return identity.write_identity("bob", settings.NODE_IDENTITY_DIR)


@pytest.fixture
def started(bobs_copy, at_bob, bob_identity) -> RunReplica:  # noqa: F811
    body = start_body(bobs_copy)
    approve(bobs_copy, body)
    deliver(at_bob["alice"], "RunStart", body)
    return RunReplica.objects.get()


def test_the_engine_links_pin_the_certificates_paired_here(at_bob, bob_identity):
    network = engine_network(["alice", "bob"], "bob", ENGINES)
    assert network.cluster_config == {
        "parties": {"alice": {"address": "127.0.0.1:7101"}, "bob": {"address": "127.0.0.1:7102"}},
        "self_party": "bob",
    }
    assert network.tls["cert"] == bob_identity.cert_pem
    assert network.tls["peers"] == {"alice": at_bob["alice"].certificate}


@pytest.mark.parametrize("transport", ["socket", "grpc"])
def test_the_engine_links_use_this_nodes_link_transport(at_bob, bob_identity, settings, transport):
    settings.PRIVPAD_LINK_TRANSPORT = transport
    assert engine_network(["alice", "bob"], "bob", ENGINES).link_transport == transport


def test_a_party_not_paired_or_disabled_here_is_named(at_bob, bob_identity, bob):
    from console.nodes.models import Node

    Node.objects.create(name="dave", institution="Dave's")
    with pytest.raises(ConfigError, match="not paired with dave"):
        engine_network(["alice", "bob", "dave"], "bob", {**ENGINES, "dave": "h:1"})
    at_bob["alice"].enabled = False
    at_bob["alice"].save(update_fields=["enabled"])
    with pytest.raises(ConfigError, match="route to alice is disabled"):
        engine_network(["alice", "bob"], "bob", ENGINES)


@pytest.mark.parametrize(
    ("engines", "problem"),
    [({"alice": "127.0.0.1:7101"}, "do not match"), ({**ENGINES, "bob": "no port"}, "host:port")],
)
def test_bad_engine_addresses_are_named(at_bob, bob_identity, engines, problem):
    with pytest.raises(ConfigError, match=problem):
        engine_network(["alice", "bob"], "bob", engines)


def launch(route, engines=ENGINES) -> dict:
    return deliver(route, "RunLaunch", {"run": 41, "engines": engines})


def test_the_launch_stores_the_addresses_and_starts_the_worker_once(
    started, at_bob, monkeypatch, django_capture_on_commit_callbacks
):
    enqueued = []
    monkeypatch.setattr(member_runs, "start_worker", enqueued.append)
    with django_capture_on_commit_callbacks(execute=True):
        assert launch(at_bob["alice"]) == {"launched": True, "run": started.run_id}
        launch(at_bob["alice"])  # a second launch (new message id) starts nothing more
    started.refresh_from_db()
    assert started.cluster == ENGINES
    assert enqueued == [started.pk]


def test_only_the_initiator_launches_its_run_with_an_address_per_party(started, at_bob):
    with pytest.raises(Refused, match="carol started no such run"):
        launch(at_bob["carol"])
    with pytest.raises(Refused, match="one host:port to each of alice, bob"):
        launch(at_bob["alice"], {"alice": "127.0.0.1:7101"})
    started.refresh_from_db()
    assert started.cluster is None


def outcome(status, message="", party="bob") -> NodeOutcome:
    return NodeOutcome(status, message, message, party)


def test_the_worker_records_each_nodes_outcome_on_bobs_run(started, monkeypatch):
    started.cluster = ENGINES
    started.save(update_fields=["cluster"])
    nodes = list(started.run.nodes.order_by("position").values_list("node_id", flat=True))
    seen = {}

    def fake_run_party(job, network, report, cancelled, keep):
        seen.update(party=job.party, storage=job.storage, tls_peers=set(network.tls["peers"]))
        outcomes = {nodes[0]: outcome("succeeded"), nodes[1]: outcome("failed", "bob lost")}
        return PartyResult("failed", f"failed at {nodes[1]} at bob: bob lost", outcomes)

    monkeypatch.setattr(member_runs, "run_party", fake_run_party)
    assert member_runs.run_member_part(started.pk) == Status.FAILED
    run = Run.objects.get()
    assert run.status == Status.FAILED
    assert "bob lost" in run.message
    statuses = dict(run.nodes.values_list("node_id", "status"))
    assert statuses[nodes[0]] == Status.SUCCEEDED
    assert statuses[nodes[1]] == Status.FAILED
    assert all(statuses[n] == Status.SKIPPED for n in nodes[2:])
    assert seen["party"] == "bob"
    assert list(seen["storage"]) == ["bob"]
    assert seen["tls_peers"] == {"alice"}
    assert member_runs.run_member_part(started.pk) == "not pending"  # never twice


def test_a_run_without_usable_links_fails_naming_why(started):
    assert member_runs.run_member_part(started.pk) == Status.FAILED
    run = Run.objects.get()
    assert "could not join the run's links" in render(run.message)
    assert set(run.nodes.values_list("status", flat=True)) == {Status.SKIPPED}


def test_an_aborted_start_cancels_bobs_pending_run_with_the_reason(started, at_bob):
    body = {"run": 41, "reason": "carol: unreachable"}
    with pytest.raises(Refused, match="carol started no such run"):
        deliver(at_bob["carol"], "RunAbort", body)
    assert deliver(at_bob["alice"], "RunAbort", body) == {"cancelled": True}
    run = Run.objects.get()
    assert run.status == Status.CANCELLED
    assert render(run.message) == "not started: carol: unreachable"
    assert member_runs.run_member_part(started.pk) == "not pending"


def test_the_parts_events_show_on_bobs_run_as_they_come(started):
    run = Run.objects.get()
    first = run.nodes.order_by("position").first()
    shown = member_runs.ShownHere(run)
    shown({"event": "node.status", "node": first.node_id, "party": "bob", "status": "running"})
    shown({"event": "node.progress", "node": first.node_id, "party": "bob", "percent": 40})
    assert run.nodes.get(pk=first.pk).progress == 40
    shown({"event": "node.log", "node": first.node_id, "party": "bob", "line": "PSI: 30 ids"})
    warning = {"message": "bob's income has outliers", "public": "a warning", "about": "bob"}
    shown({"event": "node.warning", "node": first.node_id, "party": "bob", **warning})
    done = {"status": "succeeded", "message": "", "public": "", "party": "bob"}
    shown({"event": "node.status", "node": first.node_id, **done})
    shown({"event": "node.status", "node": first.node_id, "status": "running"})  # not allowed
    shown({"event": "run.status", "run": "41", "party": "bob", "status": "failed"})
    first.refresh_from_db()
    assert first.status == Status.SUCCEEDED
    assert first.progress == 100
    assert [line["message"] for line in first.logs][0] == "PSI: 30 ids"
    assert first.warnings[0]["message"] == "bob's income has outliers"
    assert Run.objects.get().status == Status.PENDING  # the run's outcome: `finish`
