"""SEMI2K's correlated randomness from a dealer process (SPU's `TrustedThirdParty`).

Scheme: the dealer is a node of the cluster that is not an SPU party. At an SPU's setup every
party asks it for its PRG seed (`setup`); the dealer draws one seed per party of that SPU and
answers each party with its own. During the computation rank 0 sends the dealer each
correlation request (kind and shapes, never a value), the dealer replays every party's draws
and answers with rank 0's fixed parts (`core.mpc.correlated.kinds`), exactly as the simulated
`TrustedDealer` thread does. Requests travel on channel `dealer`, answers on `dealer/<spu>`, so
several SPUs never mix their answers.

Trust assumption (stated again in `core.mpc.protocols.semi2k`): the dealer learns every
party's correlated randomness, so it must be semi-honest and collude with no party; it never
sees an input, a share or an opened value, and a coalition of up to n - 1 parties learns
nothing from the correlations. The dealer checks requests (known kinds, bounded sizes) so a
party cannot make it allocate without bound.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from core.comm import Link
from core.errors import LinkError
from core.mpc.correlated.dealer import fix_parts
from core.mpc.correlated.kinds import CORRELATIONS, Parts
from core.mpc.correlated.provider import TripleProvider
from core.mpc.prg import PRG, SEED_BYTES, fresh_seed
from core.mpc.ring import RINGS

REQUESTS = "dealer"
MAX_ELEMENTS = 1 << 28  # per requested array: 2 GiB of uint64 (4 GiB on FM128)


def reply_channel(spu: str) -> str:
    return f"dealer/{spu}"


class DealerClient:
    """Rank 0's side: requests over `request`, answers (in order) over `reply`."""

    def __init__(self, request: Link, reply: Link, spu: str):
        self._request, self._reply, self._spu = request, reply, spu
        self._dealer = 1 - request.rank

    def submit(self, kind: str, params: tuple) -> None:
        self._request.send(self._dealer, ("corr", self._spu, kind, params))

    def collect(self, kind: str, params: tuple) -> Parts:
        return _answer(self._reply.recv(self._dealer), f"{kind} correlation")


def remote_triples(request: Link, reply: Link, spu: str, parties: list[str], rank: int):
    """This SPU party's `TripleProvider` fed by the dealer at the other end of `request`."""
    dealer = 1 - request.rank
    request.send(dealer, ("setup", spu, list(parties), rank))
    seed = _answer(reply.recv(dealer), "seed")
    if not isinstance(seed, np.ndarray) or seed.dtype != np.uint8 or seed.size != SEED_BYTES:
        raise LinkError(f"the dealer sent {request.party!r} a malformed seed")
    client = DealerClient(request, reply, spu) if rank == 0 else None
    return TripleProvider(rank, bytes(seed), client)


def _answer(message: Any, what: str) -> Any:
    if isinstance(message, dict) and "error" in message:
        raise LinkError(f"the dealer refused the {what}: {message['error']}")
    if isinstance(message, dict) and "value" in message:
        return message["value"]
    raise LinkError(f"the dealer sent a malformed answer to the {what}")


class DealerState:
    """The dealer's seeds and PRGs per SPU (several parties' threads share it)."""

    def __init__(self):
        self._spus: dict[str, tuple[list[str], list[bytes], list[PRG]]] = {}
        self._lock = threading.Lock()

    def answer(self, sender: str, message: Any) -> tuple[str, dict]:
        """(SPU name, answer) for one request of `sender`; problems become error answers."""
        if not (isinstance(message, tuple) and message and message[0] in ("setup", "corr")):
            raise LinkError(f"{sender!r} sent the dealer something that is not a request")
        spu = message[1] if len(message) > 1 and isinstance(message[1], str) else "?"
        try:
            if message[0] == "setup":
                return spu, {"value": self._setup(sender, *message[1:])}
            return spu, {"value": self._fix(sender, *message[1:])}
        except (TypeError, ValueError, KeyError) as exc:
            return spu, {"error": f"bad request from {sender!r}: {exc}"}

    def _setup(self, sender: str, spu: str, parties: list, rank: int) -> np.ndarray:
        if not (isinstance(parties, list) and 0 <= rank < len(parties)):
            raise ValueError("malformed setup")
        if parties[rank] != sender:
            raise ValueError(f"rank {rank} of {parties} is not {sender!r}")
        with self._lock:
            if spu not in self._spus:
                seeds = [fresh_seed() for _ in parties]
                self._spus[spu] = (list(parties), seeds, [PRG(s) for s in seeds])
            known, seeds, _ = self._spus[spu]
        if known != parties:
            raise ValueError(f"{spu} has parties {known}, not {parties}")
        return np.frombuffer(seeds[rank], dtype=np.uint8)

    def _fix(self, sender: str, spu: str, kind: str, params: tuple) -> Parts:
        parties, _, prgs = self._spus[spu]
        if sender != parties[0]:
            raise ValueError(f"only rank 0 ({parties[0]!r}) asks for corrections")
        if kind not in CORRELATIONS:
            raise ValueError(f"unknown correlation {kind!r}")
        _check_params(params)
        return fix_parts(prgs, 0, kind, params)


def _check_params(params: Any) -> None:
    """A ring name, then shapes and small ints only, each array under MAX_ELEMENTS (the
    dealer allocates them)."""
    if not isinstance(params, tuple) or not params or len(params) > 5:
        raise ValueError("malformed parameters")
    if params[0] not in RINGS:
        raise ValueError(f"unknown ring {params[0]!r}; expected one of {sorted(RINGS)}")
    for item in params[1:]:
        if isinstance(item, tuple):
            if len(item) > 8 or not all(isinstance(d, int) and d >= 0 for d in item):
                raise ValueError(f"malformed shape {item!r}")
            if all(isinstance(d, int) for d in item) and np.prod(item, dtype=object) > MAX_ELEMENTS:
                raise ValueError(f"shape {item!r} is larger than {MAX_ELEMENTS} elements")
        elif not (isinstance(item, int) and 0 <= item <= 128):
            raise ValueError(f"malformed parameter {item!r}")
