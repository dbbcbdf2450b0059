"""PYU: one party's plaintext compute device.

`pyu(fn)(*args)` runs fn on that party's worker thread with that party's values and returns a
`PYUObject` naming where the result lives. Values of other parties must be moved explicitly
with `.to(...)`, which sends them over the link (and is counted in the link statistics).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.device import runtime
from core.device.pytree import tree_map
from core.errors import PartyError


class PYUObject:
    """A value held in plaintext by one party."""

    def __init__(self, device: PYU, ref: int):
        self.device = device
        self.ref = ref

    def __repr__(self) -> str:
        return f"PYUObject(party={self.device.party!r}, ref={self.ref})"

    def to(self, device) -> Any:
        """Move to another party (send), share into an SPU, or encrypt under an HEU key."""
        mover = getattr(device, "_receive_from_pyu", None)
        if mover is None:
            raise PartyError(f"cannot move a PYUObject to {device!r}")
        return mover(self)


class PYU:
    """The plaintext device of `party`."""

    def __init__(self, party: str):
        runtime.current().check_party(party)
        self.party = party

    def __repr__(self) -> str:
        return f"PYU({self.party!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, PYU) and other.party == self.party

    def __hash__(self) -> int:
        return hash(("PYU", self.party))

    def __call__(self, fn: Callable, num_returns: int | None = None) -> Callable[..., Any]:
        def run(*args, **kwargs):
            session = runtime.current()
            store = session.stores[self.party]

            def body():
                resolved_args = tree_map(lambda v: self._local(v, store), args)
                resolved_kwargs = tree_map(lambda v: self._local(v, store), kwargs)
                result = fn(*resolved_args, **resolved_kwargs)
                if num_returns is None:
                    return [self._keep(session, result)]
                return [self._keep(session, r) for r in result]

            refs = session.run_one(self.party, body)
            objs = [PYUObject(self, ref) for ref in refs]
            return objs[0] if num_returns is None else tuple(objs)

        return run

    def _local(self, value: Any, store: dict) -> Any:
        if isinstance(value, PYUObject):
            if value.device.party != self.party:
                raise PartyError(
                    f"a value of party {value.device.party!r} was passed to {self!r}; "
                    f"move it first with .to(PYU({self.party!r}))"
                )
            return store[value.ref]
        if hasattr(value, "device") and hasattr(value, "ref"):
            raise PartyError(f"{value!r} does not live on {self!r}; move it with .to({self!r})")
        return value

    def _keep(self, session, value: Any) -> int:
        ref = session.new_id()
        session.stores[self.party][ref] = value
        return ref

    def _receive_from_pyu(self, obj: PYUObject) -> PYUObject:
        if obj.device.party == self.party:
            return obj
        session = runtime.current()
        src, dst = obj.device.party, self.party
        src_link, dst_link = session.link(src), session.link(dst)
        ref = session.new_id()

        def send():
            src_link.send(dst_link.rank, session.stores[src][obj.ref])

        def recv():
            session.stores[dst][ref] = dst_link.recv(src_link.rank)

        session.run_all([src, dst], [send, recv])
        return PYUObject(self, ref)

    def fetch(self, obj: PYUObject) -> Any:
        """The plaintext value (used by `reveal`)."""
        session = runtime.current()
        return session.run_one(self.party, lambda: session.stores[self.party][obj.ref])
