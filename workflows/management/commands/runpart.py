"""`manage.py runpart JOB.json NETWORK.json`: execute this party's part of a network run.

JOB.json (`workflows.party_jobs.job_from_dict`): run_id, snapshot (the run's graph), parties,
sources (the project's authorised datasets; `path` only for this party's), party,
storage_root, requested_by, min_group_rows. NETWORK.json (`network_from_dict`):
cluster_config (SecretFlow's shape), tls ({"key", "cert", "peers" or "ca"}, PEM text or paths)
or insecure_plaintext (tests only), timeout, connect_timeout, reconnect_grace, link_transport
("socket" or "grpc", the same at every party; default "socket").

Every event (`workflows.party`: node status, progress, log lines, warnings, the run's status)
is printed as one JSON line on stdout, for the initiator to stream; the last line is the
result. Exit status: 0 succeeded, 1 failed, 2 refused (a party unreachable, another run).

SIGTERM cancels the run: the running node stops at its next progress point, and the other
parties fail it naming this party ("cancelled at <party>"); SIGINT likewise.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.errors import ConfigError
from workflows.party import REFUSED, SUCCEEDED, run_party
from workflows.party_jobs import job_from_dict, network_from_dict


def _load(path: str, what: str) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CommandError(f"cannot read the {what} file {path}: {error}") from None
    if not isinstance(data, dict):
        raise CommandError(f"the {what} file {path} must hold a JSON object")
    return data


def _line(event: dict) -> None:
    sys.stdout.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


class Command(BaseCommand):
    help = "Execute this party's part of a pipeline run over the network (JSON lines out)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("job", help="the run as this party sees it (JSON file)")
        parser.add_argument("network", help="cluster_config and TLS settings (JSON file)")

    def handle(self, *args, **options) -> None:
        try:
            job = job_from_dict(_load(options["job"], "job"))
            network = network_from_dict(_load(options["network"], "network"))
        except (KeyError, TypeError, ValueError, ConfigError) as error:
            raise CommandError(f"bad run description: {error}") from None
        cancel = threading.Event()
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda *_: cancel.set())
        result = run_party(job, network, _line, cancel.is_set)
        _line({"event": "result", "party": job.party} | result.to_dict())
        if result.status != SUCCEEDED:
            sys.exit(2 if result.status == REFUSED else 1)
