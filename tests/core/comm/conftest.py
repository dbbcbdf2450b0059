"""Network links inside one process: loopback addresses, throwaway mutual-TLS identities, and
started transports of either kind (`core.comm.transports`), closed after the test.

The fixtures hand out factories, since several tests build transports with their own options:
`addresses_of(parties)`, `tls_of(parties, ca=False)`, `start_all(transports)`,
`close_all(transports)` and `linked(transport_name, parties=..., **options)`.
"""

from __future__ import annotations

import threading

import pytest

from core.comm.tls import TlsConfig, make_certificate
from core.comm.transports import transport_class
from tests.core.network.net_harness import free_ports

TRANSPORT_NAMES = ["socket", "grpc"]


def loopback_addresses(parties: list[str]) -> dict[str, str]:
    """A free loopback port per party, as 'host:port' (`free_ports`: not one the kernel may
    hand to another process's outgoing connection before the transport listens there)."""
    ports = free_ports(len(parties))
    return {p: f"127.0.0.1:{port}" for p, port in zip(parties, ports, strict=True)}


def throwaway_tls(parties: list[str], ca: bool = False) -> dict[str, TlsConfig]:
    """Per party: a new key pair, pinning every peer's certificate (or trusting one new CA)."""
    issuer = make_certificate("privpad-test-ca") if ca else None
    pems = {p: make_certificate(p, issuer=issuer) for p in parties}
    if ca:
        return {p: TlsConfig(pems[p][0], pems[p][1], ca=issuer[1]) for p in parties}
    return {
        p: TlsConfig(pems[p][0], pems[p][1], {q: pems[q][1] for q in parties if q != p})
        for p in parties
    }


def start_transports(transports) -> None:
    """Start every transport at once (each waits for its peers); re-raise the first failure."""
    errors = []

    def start(transport):
        try:
            transport.start()
        except Exception as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    _in_threads(start, transports)
    if errors:
        raise errors[0]


def close_transports(transports, graceful: bool = True) -> None:
    _in_threads(lambda transport: transport.close(graceful), transports)


def _in_threads(action, transports) -> None:
    threads = [threading.Thread(target=action, args=(t,)) for t in transports]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.fixture
def addresses_of():
    return loopback_addresses


@pytest.fixture
def tls_of():
    return throwaway_tls


@pytest.fixture
def start_all():
    return start_transports


@pytest.fixture
def close_all():
    return close_transports


@pytest.fixture
def linked():
    """`linked(name, parties=["alice", "bob"], ca=False, **options)`: the parties' started
    transports of kind `name` with mutual TLS, by party; closed when the test ends."""
    started = []

    def make(name: str, parties=("alice", "bob"), ca: bool = False, **options):
        parties = list(parties)
        addresses, tls = loopback_addresses(parties), throwaway_tls(parties, ca)
        options = {"timeout": 20, "connect_timeout": 10, **options}
        kind = transport_class(name)
        transports = {p: kind(p, addresses, tls[p], **options) for p in parties}
        started.append(transports)
        start_transports(transports.values())
        return transports

    yield make
    for transports in started:
        close_transports(transports.values())
