"""A deployment's group links (an SPU's own transport among its cluster_def addresses) end at
once when a peer is known to have stopped: reported by its node (`PeerFailures`), or learnt on
the deployment's main links (its abort), not after the connect timeout.

Two `Deployment`s in one process (threads), plaintext on loopback, over both transports.
"""

from __future__ import annotations

import threading
import time

import pytest

from core.comm.causes import LinkCause
from core.comm.network import PeerFailures
from core.device.deployment import Deployment
from core.errors import LinkError
from tests.core.network.net_harness import free_ports

pytestmark = pytest.mark.timeout(60)
CONNECT_TIMEOUT = 30  # what the group links would wait without the peer's failure
QUICK = 5  # seconds within which they must end instead


@pytest.fixture(params=["socket", "grpc"])
def deployments(request):
    """alice's and bob's deployments, linked; alice's with a `PeerFailures` of her node's."""
    parties = ["alice", "bob"]
    addresses = dict(zip(parties, (f"127.0.0.1:{p}" for p in free_ports(2)), strict=True))
    failures = PeerFailures()
    made: dict[str, Deployment] = {}

    def deploy(party: str) -> None:
        config = {"parties": {p: {"address": a} for p, a in addresses.items()}}
        made[party] = Deployment(
            dict(config, self_party=party),
            insecure_plaintext=True,
            timeout=20,
            connect_timeout=CONNECT_TIMEOUT,
            link_transport=request.param,
            peer_failures=failures if party == "alice" else None,
        )

    threads = [threading.Thread(target=deploy, args=(p,)) for p in parties]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(made) == set(parties), "the deployments did not link"
    yield made, failures
    for deployment in made.values():
        deployment.close()


def spu_addresses() -> dict[str, str]:
    """The SPU's own addresses (its cluster_def nodes): bob never listens at his."""
    return dict(zip(["alice", "bob"], (f"127.0.0.1:{p}" for p in free_ports(2)), strict=True))


def group_start_error(alice: Deployment) -> tuple[LinkError, float]:
    started = time.monotonic()
    with pytest.raises(LinkError) as raised:
        alice.group_links(["alice", "bob"], "spu-0", spu_addresses())
    return raised.value, time.monotonic() - started


@pytest.mark.parametrize("reported_after", [None, 0.5])
def test_a_peer_its_node_reports_stopped_ends_the_group_links_start_at_once(
    deployments, reported_after
):
    """bob's node says his part stopped, before alice's SPU links start or while they dial
    him: they end naming bob and his reason."""
    (made, failures) = deployments
    stopped = LinkCause("aborted", peer="bob", reason="bob's part stopped at node psi")
    if reported_after is None:
        failures.report("bob", stopped)
    else:
        threading.Timer(reported_after, failures.report, args=("bob", stopped)).start()
    error, seconds = group_start_error(made["alice"])
    assert "'bob' aborted: bob's part stopped at node psi" in str(error)
    assert seconds < QUICK


def test_a_peer_that_aborted_on_the_main_links_ends_the_group_links_start_at_once(deployments):
    """bob's program failed before he built the SPU: his abort, heard on the main links,
    ends alice's SPU links' start at once, naming him and the error's type."""
    (made, _failures) = deployments
    made["bob"]._abort_peers(ValueError("a value that must not travel"))
    error, seconds = group_start_error(made["alice"])
    assert "'bob' aborted: 'bob' failed with ValueError" in str(error)
    assert "must not travel" not in str(error)
    assert seconds < QUICK
