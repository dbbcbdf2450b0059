"""The placement seam without processes: what a component touches when only one party runs
here, and how a published value or a failure crosses (over an in-memory hub standing in for
the run's links)."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pandas as pd
import pytest

from core.comm import LocalLinkHub
from core.errors import LinkError, PartyFailure
from tests.workflows.helpers import run_component, table
from workflows.components.context import RunContext
from workflows.placement import EMBEDDED, AtParty, Placement, RemoteFailure


class OnlyHere(Placement):
    """Party `me` runs here; published values of the others come from `published`."""

    networked = True

    def __init__(self, me: str, published: dict | None = None):
        self.me, self.published = me, published or {}

    def runs_here(self, party: str) -> bool:
        return party == self.me

    def publish(self, owner, compute, node_id=""):
        return compute() if owner == self.me else self.published[owner]


def context(placement: Placement, written_to) -> RunContext:
    return RunContext({}, ("alice", "bob"), {}, {}, written_to, placement=placement)


def test_embedded_runs_every_party_and_publish_returns_the_value(tmp_path):
    ctx = context(EMBEDDED, lambda party: tmp_path / party)
    assert ctx.here(["alice", "bob"]) == ["alice", "bob"]
    assert ctx.at("bob", lambda x: x + 1, 1) == 2
    assert ctx.publish("bob", len, [1, 2, 3]) == 3


def test_code_of_a_party_running_elsewhere_is_not_called(tmp_path):
    ctx = context(OnlyHere("alice", {"bob": 7}), lambda party: tmp_path / party)
    calls = []
    assert ctx.at("bob", calls.append, "read") is None
    assert calls == []
    assert ctx.here(["alice", "bob", "carol"]) == ["alice"]
    assert ctx.publish("bob", calls.append, "count") == 7
    assert calls == []


def test_a_component_writes_only_the_parts_of_the_party_running_here(tmp_path):
    frames = {"alice": pd.DataFrame({"a": [1.0, 2.0, 4.0]}), "bob": pd.DataFrame({"b": [3, 5, 9]})}
    data = table(tmp_path / "in", frames, {})
    data.files["bob"].unlink()  # bob's file is not on alice's machine
    placement = OnlyHere("alice")
    out = run_component(
        tmp_path,
        "preprocessing/scaler",
        {"features": ["a", "b"]},
        {"input_ds": data},
        placement=placement,
    )
    assert set(out["output_ds"].files) == {"alice"}
    assert set(out["output_rule"].files) == {"alice"}
    assert not (tmp_path / "out" / "bob").exists()


def test_writing_another_partys_output_is_refused(tmp_path):
    from workflows.components.schema import ArtifactInfo, PortType

    ctx = context(OnlyHere("alice"), lambda party: tmp_path / party)
    ctx.infos = {"report": ArtifactInfo(PortType.REPORT, ("alice", "bob"))}
    with pytest.raises(PartyFailure, match="written by 'bob'"):
        ctx.write_json("report", "bob", {"x": 1})
    assert not (tmp_path / "bob").exists()


def two_parties():
    """AtParty for alice and bob over an in-memory hub (the run's links in a test)."""
    hub = LocalLinkHub(["alice", "bob"])
    links = iter([hub.link(0, timeout=5), hub.link(1, timeout=5)])

    def deployment():
        transport = SimpleNamespace(link=lambda parties, channel: next(links))
        return SimpleNamespace(program_parties=["alice", "bob"], transport=transport)

    return AtParty("alice", deployment()), AtParty("bob", deployment()), hub


def in_thread(fn):
    outcome = {}

    def run():
        try:
            outcome["value"] = fn()
        except Exception as error:  # noqa: BLE001 - handed to the test
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_a_published_value_crosses_as_a_typed_frame_and_exchange_gathers_all():
    alice, bob, _ = two_parties()
    thread, received = in_thread(lambda: bob.publish("alice", lambda: None))
    assert alice.publish("alice", lambda: {"rows": 3, "sizes": [1.5, None]}) == {
        "rows": 3,
        "sizes": [1.5, None],
    }
    thread.join(5)
    assert received["value"] == {"rows": 3, "sizes": [1.5, None]}
    thread, gathered = in_thread(lambda: bob.exchange("b"))
    assert alice.exchange("a") == {"alice": "a", "bob": "b"}
    thread.join(5)
    assert gathered["value"] == {"alice": "a", "bob": "b"}


def test_a_failure_reaches_the_others_redacted_and_named():
    alice, bob, _ = two_parties()
    thread, received = in_thread(lambda: bob.publish("alice", lambda: None))

    def failing():
        raise ValueError("cell 'C000123' is not a number")

    with pytest.raises(ValueError, match="C000123"):
        alice.publish("alice", failing, "stats")
    thread.join(5)
    failure = received["error"]
    assert isinstance(failure, PartyFailure)
    assert failure.party == "alice"
    assert isinstance(failure.error, RemoteFailure)
    assert "C000123" not in str(failure)
    assert "ValueError at party alice in node stats" in failure.error.public


def test_a_malformed_workflow_message_is_a_link_error():
    _, bob, hub = two_parties()
    hub.link(0).send(1, ["not", "a", "workflow", "message"])
    with pytest.raises(LinkError, match="malformed"):
        bob.publish("alice", lambda: None)


def test_a_secure_computation_leaving_out_a_party_of_the_run_is_refused_naming_it():
    from core.comm import CommStats
    from workflows.components.checks import CheckFailed

    alice, _, _ = two_parties()
    with pytest.raises(CheckFailed, match="among alice only, but the run also includes bob"):
        alice.session(["alice"], CommStats())
    assert alice.session(["alice"], CommStats(), among_only=True) is not None  # PSI may
