"""A cluster node that serves SEMI2K's correlated randomness (`beaver_type` TrustedThirdParty).

The dealer's process joins the cluster like a party and then only serves:

    core.init(cluster_config={"parties": {..., "dealer": {"address": ..., "role": "dealer"}},
                              "self_party": "dealer"}, tls=...)
    core.serve_dealer()   # returns once every peer has shut down its links
    core.shutdown()

The SPU parties name it in their cluster_def (`"beaver_type": "TrustedThirdParty", "ttp_party":
"dealer"`). Scheme and trust assumption: `core.mpc.correlated.remote`.
"""

from __future__ import annotations

import threading

from core.device import runtime
from core.errors import ConfigError, LinkError
from core.mpc.correlated.remote import REQUESTS, DealerState, reply_channel

IDLE_TIMEOUT_S = 7 * 24 * 3600.0  # a dealer waits for requests as long as its peers live


def serve_dealer() -> list[str]:
    """Answer every peer's correlation requests until each peer has shut down or failed.

    Returns one line per peer saying how its service ended. Raises ConfigError outside a
    deployment (a simulation's SPU has its own dealer thread).
    """
    endings = serve_peers()
    return [f"{peer}: {endings[peer]}" for peer in sorted(endings)]


def serve_peers() -> dict[str, LinkError]:
    """`serve_dealer`, with each peer's ending as the LinkError that ended its service: its
    `cause.code` is "peer_closed" when the peer shut its links down at the end of its program
    (any other code: it failed or was lost). Raises as `serve_dealer`."""
    cluster = runtime.current()
    if cluster.simulation:
        raise ConfigError("serve_dealer runs in a deployment (init(cluster_config=...))")
    if cluster.self_party not in cluster.dealers:
        raise ConfigError(
            f"{cluster.self_party!r} is not a dealer node: give it 'role': 'dealer' in "
            "cluster_config so that no party sends it revealed values"
        )
    state, endings = DealerState(), {}
    threads = [
        threading.Thread(target=_serve_peer, args=(cluster, peer, state, endings), daemon=True)
        for peer in cluster.parties
        if peer != cluster.self_party
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return endings


def _serve_peer(cluster, peer: str, state: DealerState, endings: dict) -> None:
    replies: dict[str, object] = {}
    try:
        requests = cluster.pair_link(peer, REQUESTS, timeout=IDLE_TIMEOUT_S)
        rank = requests.rank_of(peer)
        while True:
            spu, answer = state.answer(peer, requests.recv(rank))
            if spu not in replies:
                replies[spu] = cluster.pair_link(peer, reply_channel(spu))
            replies[spu].send(rank, answer)
    except LinkError as exc:
        endings[peer] = exc
