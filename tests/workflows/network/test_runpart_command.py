"""`manage.py runpart` and `run_party` refuse bad run descriptions with a clear message."""

from __future__ import annotations

import json
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.errors import ConfigError
from tests.workflows.network.demo_job import PARTIES, demo_job
from workflows.messages import render
from workflows.party import run_party
from workflows.party_jobs import Network, job_from_dict, job_to_dict, network_from_dict


def write(path, data) -> str:
    path.write_text(json.dumps(data))
    return str(path)


def test_a_missing_job_file_is_named(tmp_path):
    network = write(tmp_path / "network.json", {"cluster_config": {}})
    with pytest.raises(CommandError, match="cannot read the job file .*nowhere.json"):
        call_command("runpart", str(tmp_path / "nowhere.json"), network)


def test_unknown_network_settings_are_named(tmp_path):
    job = job_to_dict(demo_job("1", {"alice": tmp_path / "alice"}, "alice"))
    files = write(tmp_path / "job.json", job), write(tmp_path / "n.json", {"tls_file": "x"})
    with pytest.raises(CommandError, match=r"unknown network settings \['tls_file'\]"):
        call_command("runpart", *files)


def test_a_job_without_its_party_is_refused(tmp_path):
    job = job_to_dict(demo_job("1", {"alice": tmp_path / "alice"}, "alice"))
    del job["party"]
    files = write(tmp_path / "job.json", job), write(tmp_path / "n.json", {"cluster_config": {}})
    with pytest.raises(CommandError, match="bad run description: 'party'"):
        call_command("runpart", *files)


def test_the_job_round_trips_without_other_parties_paths(tmp_path):
    job = demo_job("9", {"bob": tmp_path / "bob"}, "bob")
    data = job_to_dict(job)
    paths = {source["party"]: source["path"] for source in data["sources"]}
    assert paths["alice"] is None
    assert paths["carol"] is None
    assert paths["bob"].startswith(str(tmp_path / "bob"))
    again = job_from_dict(json.loads(json.dumps(data)))
    assert again.snapshot == job.snapshot
    assert again.storage == {"bob": tmp_path / "bob"}


def test_an_invalid_snapshot_refuses_the_run_and_skips_every_node(tmp_path):
    job = demo_job("1", {p: tmp_path / p for p in PARTIES})
    broken = dict(job.snapshot)
    broken["nodes"] = [
        dict(n, component="no/such") if n["id"] == "psi" else n for n in broken["nodes"]
    ]
    events = []
    result = run_party(type(job)(**{**vars(job), "snapshot": broken}), report=events.append)
    assert result.status == "refused"
    assert "psi: unknown component no/such" in render(result.message)
    assert {o.status for o in result.nodes.values()} == {"skipped"}
    assert events[-1]["event"] == "run.status"
    assert not (tmp_path / "alice" / "runs").exists()


def test_a_network_job_may_not_write_another_partys_storage(tmp_path):
    job = demo_job("1", {p: tmp_path / p for p in PARTIES}, "alice")
    network = Network({"parties": {}, "self_party": "alice"}, insecure_plaintext=True)
    with pytest.raises(ConfigError, match="writes only this party's storage"):
        run_party(job, network)


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ({"insecure_plaintext": "false"}, "insecure_plaintext must be true or false, got 'false'"),
        ({"insecure_plaintext": 1}, "insecure_plaintext must be true or false, got 1"),
        ({"link_transport": "http"}, r"unknown link transport 'http'; choose one of \['grpc', "),
    ],
)
def test_a_network_with_a_mistyped_security_or_transport_setting_is_refused(given, problem):
    with pytest.raises(ConfigError, match=problem):
        network_from_dict({"cluster_config": {}, **given})


def test_the_link_transport_is_read_from_the_network_file():
    network = network_from_dict({"cluster_config": {}, "link_transport": "grpc"})
    assert network.link_transport == "grpc"
    assert network_from_dict({"cluster_config": {}}).link_transport is None


def test_a_party_on_another_link_transport_is_named_with_the_setting_at_every_party(tmp_path):
    """carol's node uses gRPC links, alice's and bob's raw TLS sockets: every party's run
    refuses to start, and what its users read names the party and the setting to align."""
    from tests.core.network.net_harness import free_ports, make_certificates
    from tests.workflows.network.demo_job import demo_sources

    storage = {party: tmp_path / "nodes" / party for party in PARTIES}
    demo_sources(storage)
    certs = make_certificates(list(PARTIES), tmp_path / "certs")
    ports = dict(zip(PARTIES, free_ports(len(PARTIES)), strict=True))
    parties = {p: {"address": f"127.0.0.1:{ports[p]}"} for p in PARTIES}
    transport = {"alice": "socket", "bob": "socket", "carol": "grpc"}
    results = {}

    def run(party):
        network = Network(
            {"parties": parties, "self_party": party},
            certs[party],
            connect_timeout=10,
            link_transport=transport[party],
        )
        job = demo_job("7", {party: storage[party]}, party)
        results[party] = run_party(job, network)

    threads = [threading.Thread(target=run, args=(party,)) for party in PARTIES]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    setting = "every node of a run must use the same one (PRIVPAD_LINK_TRANSPORT)"
    for party, other in (("alice", "carol"), ("bob", "carol"), ("carol", "alice")):
        result = results[party]
        assert result.status == "refused", party
        said = render(result.message)
        assert said.startswith("cannot reach "), said
        assert f"{other} does not speak the {transport[party]} link transport" in said, said
        assert setting in said, said
        chinese = render(result.message, "zh-hans")
        assert "PRIVPAD_LINK_TRANSPORT" in chinese
        assert "连接传输方式" in chinese, chinese
