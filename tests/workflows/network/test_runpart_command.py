"""`manage.py runpart` and `run_party` refuse bad run descriptions with a clear message."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.errors import ConfigError
from tests.workflows.network.demo_job import PARTIES, demo_job
from workflows.messages import render
from workflows.party import run_party
from workflows.party_jobs import Network, job_from_dict, job_to_dict


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
