"""What a party worker is given (`workflows.party`): the run as one party sees it, and its links.

`PartyJob` and `Network` are plain data; their JSON forms (`job_to_dict` / `job_from_dict`,
`network_from_dict`) are what `manage.py runpart` reads, and the job's is what the initiating
node sends each member in `RunStart` (`console.federation.initiate`). A job's JSON carries the
storage path of this party's datasets only: another party's paths never leave its node.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import ConfigError
from workflows.components.schema import Column
from workflows.ports import SourceTable

if TYPE_CHECKING:
    from core.comm.network import PeerFailures


@dataclass(frozen=True)
class PartyJob:
    """One run as a party sees it. `storage` maps a party to its storage root: only this
    party's in network mode (a party's storage is written only by its own process), every
    party's when embedded. `sources` are the datasets authorised to the project; only this
    party's paths are read."""

    run_id: str
    snapshot: dict
    parties: tuple[str, ...]
    sources: dict[int, SourceTable]
    storage: dict[str, Path]
    party: str | None = None
    requested_by: str | None = None
    min_group_rows: int = 20


@dataclass(frozen=True)
class Network:
    """The run's links (`core.init(cluster_config=..., tls=...)`'s settings). `link_transport`
    (`core.comm.transports`: "socket", "grpc"; None for the default) must be the same at every
    party: a party on the other one is refused in the links' handshake, naming the setting."""

    cluster_config: dict
    tls: dict | None = None
    insecure_plaintext: bool = False
    timeout: float = 600.0
    connect_timeout: float = 30.0
    reconnect_grace: float = 10.0
    link_transport: str | None = None
    # Parties known by other means to have stopped (their node's report): the links' start
    # then fails at once naming them, not at `connect_timeout` (`core.comm.network`).
    peer_failures: PeerFailures | None = None

    def connect(self):
        """This node's `core.device.deployment.Deployment` over these links (LinkError if a
        node cannot be reached within `connect_timeout`)."""
        from core.device.deployment import Deployment

        return Deployment(
            self.cluster_config,
            self.tls,
            insecure_plaintext=self.insecure_plaintext,
            timeout=self.timeout,
            connect_timeout=self.connect_timeout,
            reconnect_grace=self.reconnect_grace,
            link_transport=self.link_transport,
            peer_failures=self.peer_failures,
        )


def source_to_dict(source: SourceTable, party: str) -> dict:
    """A source as `party`'s worker receives it: another party's storage path never leaves."""
    return {
        "dataset_id": source.dataset_id,
        "name": source.name,
        "party": source.party,
        "path": str(source.path) if source.party == party else None,
        "fingerprint": source.fingerprint,
        "columns": [column.to_dict() for column in source.columns],
        "encoding": source.encoding,
        "rows": source.rows,
        "authorization_id": source.authorization_id,
        "policy": source.policy,
    }


def job_to_dict(job: PartyJob) -> dict:
    """The JSON form of a network job (`job_from_dict` reads it back)."""
    if job.party is None:
        raise ConfigError("only a network job (one party) has a JSON form")
    return {
        "run_id": job.run_id,
        "snapshot": job.snapshot,
        "parties": list(job.parties),
        "sources": [source_to_dict(source, job.party) for source in job.sources.values()],
        "party": job.party,
        "storage_root": str(job.storage[job.party]),
        "requested_by": job.requested_by,
        "min_group_rows": job.min_group_rows,
    }


def source_from_dict(data: dict) -> SourceTable:
    columns = tuple(Column.from_dict(column) for column in data["columns"])
    return SourceTable(
        dataset_id=int(data["dataset_id"]),
        name=data["name"],
        party=data["party"],
        path=Path(data.get("path") or "/nonexistent/elsewhere"),
        fingerprint=data["fingerprint"],
        columns=columns,
        encoding=data.get("encoding", "utf-8"),
        rows=data.get("rows"),
        authorization_id=data.get("authorization_id"),
        policy=data.get("policy") or {},
    )


def job_from_dict(data: dict) -> PartyJob:
    """A PartyJob from its JSON form: run_id, snapshot, parties, sources (with `path` only for
    this party's datasets), party, storage_root, requested_by, min_group_rows."""
    sources = [source_from_dict(source) for source in data["sources"]]
    return PartyJob(
        run_id=str(data["run_id"]),
        snapshot=data["snapshot"],
        parties=tuple(data["parties"]),
        sources={source.dataset_id: source for source in sources},
        storage={data["party"]: Path(data["storage_root"])},
        party=data["party"],
        requested_by=data.get("requested_by"),
        min_group_rows=int(data.get("min_group_rows", 20)),
    )


def network_from_dict(data: dict) -> Network:
    """A Network from its JSON form; ConfigError naming an unknown setting, a plaintext flag
    that is not a JSON boolean (plaintext is never what a mistyped value gets) or an unknown
    link transport."""
    from core.comm.transports import transport_class

    known = {"cluster_config", "tls", "insecure_plaintext", "timeout", "connect_timeout"}
    known |= {"reconnect_grace", "link_transport"}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"unknown network settings {sorted(unknown)}")
    insecure = data.get("insecure_plaintext", False)
    if not isinstance(insecure, bool):
        raise ConfigError(f"insecure_plaintext must be true or false, got {insecure!r}")
    transport_class(data.get("link_transport"))  # refuses an unknown name, naming the choices
    return Network(**data)
