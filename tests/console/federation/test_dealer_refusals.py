"""Who refuses a run's dealer node, and why: a member at `RunStart` (its own copy of the
project decides), the dealer node at `DealerStart` (its operator's setting and its own
pairings decide), and every node's engine links (certificates pinned here, never sent).

The senders are paired peers, not trusted: each refusal below is what an initiator meets that
names another dealer than the project's, drops the dealer to make a party trusted instead, or
asks a node that never agreed to serve.
"""

from __future__ import annotations

import pytest
from django.core.checks import Warning

from console.checks import check_production_settings
from console.federation import dealing
from console.federation.engine import EngineSetupError, engine_network
from console.federation.models import DealerService, RunReplica, RunTripleSource, SharedProject
from console.nodes import identity
from console.nodes.link.service import Refused
from console.nodes.models import PeerRoute
from tests.console.conftest import make_node
from tests.console.federation.conftest import deliver, make_route, make_self
from tests.console.federation.test_run_start import (  # noqa: F401
    REMOTE_RUN,
    approve,
    bobs_copy,
    start_body,
)
from workflows.messages import render

UID = "6f1c1a8e-0000-4000-8000-000000000001"
ENGINES = {"alice": "127.0.0.1:7101", "bob": "127.0.0.1:7102"}


@pytest.fixture
def dave(db):
    return make_node("dave", "Dave Neutral Services")


@pytest.fixture
def bob_pairs_dave(at_bob, dave):
    return make_route(dave)


def bobs_copy_names(project, dealer: str) -> None:
    SharedProject.objects.filter(project=project).update(dealer=dealer)


# ----- a member at RunStart -------------------------------------------------------------------
def test_a_run_naming_a_dealer_the_members_copy_does_not_name_is_refused(
    bobs_copy,  # noqa: F811
    at_bob,
    bob_pairs_dave,
):
    with pytest.raises(Refused) as refused:
        deliver(at_bob["alice"], "RunStart", {**start_body(bobs_copy), "dealer": "dave"})
    said = str(refused.value)
    assert "the run's Beaver triples come from the dealer node dave" in said
    assert "this node's copy of the project names the trusted first party" in said
    assert not RunReplica.objects.exists()


def test_a_run_that_drops_the_projects_dealer_is_refused(bobs_copy, at_bob, bob_pairs_dave):  # noqa: F811
    bobs_copy_names(bobs_copy["project"], "dave")
    with pytest.raises(Refused) as refused:  # an initiator making its own party trusted instead
        deliver(at_bob["alice"], "RunStart", start_body(bobs_copy))
    said = str(refused.value)
    assert "come from the trusted first party" in said
    assert "names the dealer node dave" in said
    assert not RunReplica.objects.exists()


def test_another_dealer_than_the_projects_is_refused_naming_both(
    bobs_copy,  # noqa: F811
    at_bob,
    bob_pairs_dave,
):
    bobs_copy_names(bobs_copy["project"], "dave")
    with pytest.raises(Refused) as refused:
        deliver(at_bob["alice"], "RunStart", {**start_body(bobs_copy), "dealer": "carol"})
    said = str(refused.value)
    assert "the dealer node carol" in said
    assert "the dealer node dave" in said


def test_a_member_not_paired_with_the_dealer_refuses_asking_to_pair(bobs_copy, at_bob, dave):  # noqa: F811
    bobs_copy_names(bobs_copy["project"], "dave")
    with pytest.raises(Refused) as refused:
        deliver(at_bob["alice"], "RunStart", {**start_body(bobs_copy), "dealer": "dave"})
    said = str(refused.value)
    assert "not paired with the project's dealer node dave: pair with dave first" in said
    assert not RunReplica.objects.exists()


def test_a_dealer_that_is_a_party_of_the_run_is_refused(bobs_copy, at_bob):  # noqa: F811
    bobs_copy_names(bobs_copy["project"], "alice")  # a copy no owner's state could make
    with pytest.raises(Refused) as refused:
        deliver(at_bob["alice"], "RunStart", {**start_body(bobs_copy), "dealer": "alice"})
    assert "dealer node alice is also one of its parties" in str(refused.value)


def test_an_agreed_dealer_is_recorded_and_its_address_is_required_at_launch(
    bobs_copy,  # noqa: F811
    at_bob,
    bob_pairs_dave,
):
    bobs_copy_names(bobs_copy["project"], "dave")
    body = {**start_body(bobs_copy), "dealer": "dave"}
    approve(bobs_copy, body)
    reply = deliver(at_bob["alice"], "RunStart", body)
    assert reply["accepted"] is True
    assert RunTripleSource.objects.get(run_id=reply["run"]).dealer == "dave"
    with pytest.raises(Refused, match="engines"):  # the dealer's address is missing
        deliver(at_bob["alice"], "RunLaunch", {"run": REMOTE_RUN, "engines": ENGINES})
    engines = {**ENGINES, "dave": "127.0.0.1:7104"}
    launched = deliver(at_bob["alice"], "RunLaunch", {"run": REMOTE_RUN, "engines": engines})
    assert launched["launched"] is True
    assert RunReplica.objects.get().cluster == engines


# ----- the dealer node at DealerStart ---------------------------------------------------------
@pytest.fixture
def at_dave(dave, alice, bob, settings):
    """This installation is dave's node, a dealer its operator enabled, paired with alice and
    bob (carol exists, unpaired)."""
    settings.PRIVPAD_SERVES_DEALER = True
    settings.PRIVPAD_ENGINE_ADDRESS = "127.0.0.1:7104"
    make_self(dave)
    return {node.name: make_route(node) for node in (alice, bob)}


def dealer_body(**changes) -> dict:
    body = {
        "project": UID,
        "project_name": "Credit",
        "run": 41,
        "parties": ["alice", "bob"],
        "engines": dict(ENGINES),
    }
    return {**body, **changes}


def test_a_dealer_accepts_and_records_the_service(at_dave, alice):
    reply = deliver(at_dave["alice"], "DealerStart", dealer_body())
    assert reply == {"accepted": True, "engine": "127.0.0.1:7104"}
    service = DealerService.objects.get()
    assert (service.origin, service.remote_run, service.state) == (alice, 41, "pending")
    assert service.parties == ["alice", "bob"]
    assert service.engines == ENGINES
    again = deliver(at_dave["alice"], "DealerStart", dealer_body())  # a new message id
    assert again["accepted"] is True
    assert DealerService.objects.count() == 1


def test_a_node_whose_operator_did_not_enable_it_refuses(at_dave, settings):
    settings.PRIVPAD_SERVES_DEALER = False
    with pytest.raises(Refused) as refused:
        deliver(at_dave["alice"], "DealerStart", dealer_body())
    said = str(refused.value)
    assert said == (
        "dave does not serve as a dealer node: its operator has not enabled PRIVPAD_SERVES_DEALER"
    )
    assert not DealerService.objects.exists()


@pytest.mark.parametrize("address", ["", "dave.example", "127.0.0.1:port"])
def test_a_dealer_without_a_usable_engine_address_refuses(at_dave, settings, address):
    settings.PRIVPAD_ENGINE_ADDRESS = address
    with pytest.raises(Refused, match="PRIVPAD_ENGINE_ADDRESS"):
        deliver(at_dave["alice"], "DealerStart", dealer_body())


def test_a_dealer_not_paired_with_every_party_refuses_naming_them(at_dave, carol):
    body = dealer_body(parties=["alice", "bob", "carol"], engines={**ENGINES, "carol": "h:1"})
    with pytest.raises(Refused) as refused:
        deliver(at_dave["alice"], "DealerStart", body)
    said = str(refused.value)
    assert "this dealer node is not paired with carol" in said
    PeerRoute.objects.filter(node__name="bob").update(enabled=False)
    with pytest.raises(Refused, match="not paired with bob"):
        deliver(at_dave["alice"], "DealerStart", dealer_body())
    assert not DealerService.objects.exists()


def test_a_dealer_asked_to_be_a_party_refuses(at_dave):
    body = dealer_body(parties=["alice", "dave"], engines={"alice": "h:1", "dave": "h:2"})
    with pytest.raises(Refused, match="dave is one of the run's parties"):
        deliver(at_dave["alice"], "DealerStart", body)


def test_a_sender_that_is_no_party_of_the_run_is_refused(at_dave, carol):
    make_route(carol)
    with pytest.raises(Refused, match="carol is not a party of the run"):
        deliver(PeerRoute.objects.get(node=carol), "DealerStart", dealer_body())


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"engines": {"alice": "127.0.0.1:7101"}}, "'engines' gives one host:port"),
        ({"engines": {**ENGINES, "bob": "bob.example"}}, "'engines' gives one host:port"),
        ({"engines": {**ENGINES, "bob": 7102}}, "'engines' gives one host:port"),
        ({"parties": ["alice"]}, "a run lists 2 to"),
        ({"parties": ["alice", "alice"]}, "names a party twice"),
        ({"parties": ["alice", "../bob"]}, "is not a node name"),
        ({"run": 0}, "'run' is not a whole number"),
        ({"project": "not-a-uuid"}, "'project' is not a UUID"),
    ],
)
def test_malformed_requests_are_refused_naming_the_field(at_dave, changes, problem):
    with pytest.raises(Refused, match=problem):
        deliver(at_dave["alice"], "DealerStart", dealer_body(**changes))
    assert not DealerService.objects.exists()


def test_a_service_whose_parties_never_come_fails_naming_them(
    at_dave, settings, tmp_path, monkeypatch
):
    from console.federation import engine

    settings.NODE_IDENTITY_DIR = tmp_path / "identity"
    identity.write_identity("dave", settings.NODE_IDENTITY_DIR)
    monkeypatch.setattr(engine, "CONNECT_TIMEOUT", 1.0)
    monkeypatch.setattr(dealing, "start_service", lambda service_id: None)
    deliver(at_dave["alice"], "DealerStart", dealer_body())  # nothing listens at their engines
    service = DealerService.objects.get()
    assert dealing.serve(service.pk) == "failed"
    service.refresh_from_db()
    assert service.state == "failed"
    assert service.ended_at is not None
    assert "alice" in render(service.message, "en") or "bob" in render(service.message, "en")
    assert dealing.serve(service.pk) == "not pending"  # never served twice


# ----- every node's engine links ---------------------------------------------------------------
@pytest.fixture
def bobs_identity(settings, tmp_path):
    settings.NODE_IDENTITY_DIR = tmp_path / "identity"
    identity.write_identity("bob", settings.NODE_IDENTITY_DIR)


def test_a_partys_cluster_declares_the_dealer_with_the_certificate_pinned_here(
    at_bob, bob_pairs_dave, bobs_identity
):
    addresses = {**ENGINES, "dave": "127.0.0.1:7104"}
    network = engine_network(["alice", "bob"], "bob", addresses, dealer="dave")
    assert network.cluster_config["parties"]["dave"] == {
        "address": "127.0.0.1:7104",
        "role": "dealer",
    }
    assert network.tls["peers"]["dave"] == bob_pairs_dave.certificate
    assert set(network.tls["peers"]) == {"alice", "dave"}


def test_a_party_not_paired_with_the_dealer_cannot_join(at_bob, dave, bobs_identity):
    addresses = {**ENGINES, "dave": "127.0.0.1:7104"}
    with pytest.raises(EngineSetupError, match="pair with dave first"):
        engine_network(["alice", "bob"], "bob", addresses, dealer="dave")


@pytest.mark.parametrize(
    ("addresses", "problem"),
    [
        (ENGINES, "do not match its parties: dave"),
        ({**ENGINES, "dave": "dave.example"}, "engine address of dave is not host:port"),
    ],
)
def test_a_bad_dealer_address_is_named(at_bob, bob_pairs_dave, bobs_identity, addresses, problem):
    with pytest.raises(EngineSetupError, match=problem):
        engine_network(["alice", "bob"], "bob", addresses, dealer="dave")


# ----- the operator's settings -----------------------------------------------------------------
def warnings_about_dealing() -> list[Warning]:
    return [w for w in check_production_settings() if w.id in ("privpad.W006", "privpad.W007")]


def test_serving_as_dealer_needs_network_mode_and_an_engine_address(settings):
    settings.PRIVPAD_SERVES_DEALER = False
    assert warnings_about_dealing() == []
    settings.PRIVPAD_SERVES_DEALER = True
    settings.PRIVPAD_DEPLOYMENT = "embedded"
    assert [w.id for w in warnings_about_dealing()] == ["privpad.W006"]
    settings.PRIVPAD_DEPLOYMENT = "network"
    settings.PRIVPAD_ENGINE_ADDRESS = "dave.example"
    [warning] = warnings_about_dealing()
    assert warning.id == "privpad.W007"
    assert "'dave.example'" in warning.msg
    settings.PRIVPAD_ENGINE_ADDRESS = "10.0.0.4:7204"
    assert warnings_about_dealing() == []


def test_a_service_ended_normally_only_when_the_party_shut_its_links_down():
    from core.comm.causes import LinkCause
    from core.errors import LinkError

    def at_dave(reason):
        return LinkError(LinkCause("at_party", party="dave", reason=reason))

    assert dealing.ended_normally(at_dave(LinkCause("peer_closed", peer="bob")))
    assert dealing.ended_normally(LinkError(LinkCause("peer_closed", peer="bob")))
    assert not dealing.ended_normally(at_dave(LinkCause("lost", peer="bob", seconds=10)))
    assert not dealing.ended_normally(LinkError("a text with no cause"))


# ----- a member asked to vote on the source -----------------------------------------------------
@pytest.fixture
def bob_a_member(at_bob, alice, bob):
    """Bob's copy of alice's project (the state `test_member_side.state` describes)."""
    from tests.console.federation.test_member_side import state

    deliver(at_bob["alice"], "ProjectPropose", proposal_body("add", "bob"))
    from console.federation.models import Ballot

    Ballot.objects.update(status="accepted")
    deliver(at_bob["alice"], "ProjectState", state(version=2, members=("alice", "bob")))
    return SharedProject.objects.get()


def proposal_body(kind: str, subject: str) -> dict:
    from tests.console.federation.test_member_side import proposal, state

    return {**proposal(kind, subject), **state(members=("alice", "bob"))}


@pytest.mark.parametrize("subject", ["dave", ""])
def test_a_member_is_asked_to_vote_on_the_source(bob_a_member, at_bob, subject):
    from console.federation.models import Ballot

    deliver(at_bob["alice"], "ProjectPropose", proposal_body("dealer", subject))
    ballot = Ballot.objects.get(kind="dealer")
    assert ballot.subject_name == subject
    assert ballot.status == "pending"


@pytest.mark.parametrize(
    ("member", "refusal"),
    [
        ("alice", "alice is a member of the project: a dealer node must be a third node"),
        ("bob", "this node \\(bob\\) does not vote on that change"),
    ],
)
def test_a_member_refuses_a_proposal_naming_a_member_as_dealer(
    bob_a_member, at_bob, member, refusal
):
    from console.federation.models import Ballot

    with pytest.raises(Refused, match=refusal):
        deliver(at_bob["alice"], "ProjectPropose", proposal_body("dealer", member))
    assert not Ballot.objects.filter(kind="dealer").exists()
    with pytest.raises(Refused, match="not a node name"):  # only a dealer proposal may be empty
        deliver(at_bob["alice"], "ProjectPropose", proposal_body("add", ""))


def test_the_message_center_asks_bobs_admins_with_the_trust_at_stake(
    bob_a_member, at_bob, bob_client
):
    deliver(at_bob["alice"], "ProjectPropose", proposal_body("dealer", "dave"))
    page = bob_client.get("/approvals/").content.decode()
    assert "Take the Beaver triples of SEMI2K from the dealer node dave" in page
    assert "accept only a dealer this node trusts not to collude with any party" in page


def serves_dealer_with(value: str | None):
    """PRIVPAD_SERVES_DEALER as a fresh interpreter's settings read it."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    env = {k: v for k, v in os.environ.items() if k != "PRIVPAD_SERVES_DEALER"}
    if value is not None:
        env["PRIVPAD_SERVES_DEALER"] = value
    code = "import console.settings as s; print(s.PRIVPAD_SERVES_DEALER)"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=60
    )


def test_serving_as_dealer_is_off_unless_the_operator_says_so():
    assert serves_dealer_with(None).stdout.strip() == "False"
    assert serves_dealer_with("true").stdout.strip() == "True"
    refused = serves_dealer_with("sometimes")
    assert refused.returncode != 0
    assert "PRIVPAD_SERVES_DEALER='sometimes' is not a boolean" in refused.stderr


# ----- a run that will not start after all ---------------------------------------------------
def test_a_stop_before_the_service_started_keeps_it_from_starting(at_dave, monkeypatch):
    monkeypatch.setattr(dealing, "start_service", lambda service_id: None)
    deliver(at_dave["alice"], "DealerStart", dealer_body())
    reply = deliver(at_dave["alice"], "DealerStop", {"run": 41, "reason": "bob: unreachable"})
    assert reply == {"stopped": True, "state": "stopped"}
    service = DealerService.objects.get()
    assert service.state == "stopped"
    assert render(service.message, "en") == (
        "stopped by alice: the run did not start (bob: unreachable)"
    )
    assert dealing.serve(service.pk) == "not pending"
    with pytest.raises(Refused, match="bob started no such run"):
        deliver(at_dave["bob"], "DealerStop", {"run": 41})  # only its initiator stops it


@pytest.mark.django_db(transaction=True)
def test_a_stop_while_waiting_for_the_parties_ends_the_wait_at_once(
    at_dave, settings, tmp_path, monkeypatch
):
    import threading
    import time

    from console.federation import engine

    settings.NODE_IDENTITY_DIR = tmp_path / "identity"
    identity.write_identity("dave", settings.NODE_IDENTITY_DIR)
    monkeypatch.setattr(engine, "CONNECT_TIMEOUT", 60.0)  # nobody listens: it would wait 60 s
    monkeypatch.setattr(dealing, "start_service", lambda service_id: None)
    deliver(at_dave["alice"], "DealerStart", dealer_body())
    service = DealerService.objects.get()
    outcome = {}
    serving = threading.Thread(target=lambda: outcome.update(state=dealing.serve(service.pk)))
    serving.start()
    while service.pk not in dealing._WAITING:  # it dials the parties
        time.sleep(0.01)
    stopped_at = time.monotonic()
    deliver(at_dave["alice"], "DealerStop", {"run": 41, "reason": "bob: unreachable"})
    serving.join(timeout=20)
    assert not serving.is_alive()
    assert time.monotonic() - stopped_at < 15
    assert outcome == {"state": "stopped"}
    service.refresh_from_db()
    assert service.state == "stopped"
    assert "stopped by alice" in render(service.message, "en")


def test_a_node_invited_to_join_reads_the_projects_source_of_triples(at_bob, bob_client):
    from tests.console.federation.test_member_side import proposal

    invitation = proposal("add", "bob")
    invitation["project"]["dealer"] = "dave"
    deliver(at_bob["alice"], "ProjectPropose", invitation)
    page = bob_client.get("/approvals/").content.decode()
    assert "This node joins the project" in page
    assert "Beaver triples: the dealer node dave" in page
