"""PYU: one party's plaintext compute device.

`pyu(fn)(*args)` runs fn as that party, with that party's values, and returns a `PYUObject`
naming where the result lives: on that party's worker thread in a simulation, and only in that
party's own process in a deployment (the other processes get the reference alone). Values of
other parties must be moved explicitly with `.to(...)`, which sends them over the link (and is
counted in the link statistics).
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
        self.cluster = runtime.current()
        self.cluster.check_party(party)
        self.party = party

    def __repr__(self) -> str:
        return f"PYU({self.party!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, PYU) and other.party == self.party

    def __hash__(self) -> int:
        return hash(("PYU", self.party))

    def __call__(self, fn: Callable, num_returns: int | None = None) -> Callable[..., Any]:
        def run(*args, **kwargs):
            # References are allocated here, in program order, so every process agrees on them.
            refs = [self.cluster.new_id() for _ in range(1 if num_returns is None else num_returns)]

            def body():
                store = self.cluster.store(self.party)
                resolved_args = tree_map(lambda v: self._local(v, store), args)
                resolved_kwargs = tree_map(lambda v: self._local(v, store), kwargs)
                result = fn(*resolved_args, **resolved_kwargs)
                values = [result] if num_returns is None else list(result)
                if len(values) != len(refs):
                    raise PartyError(f"{fn!r} returned {len(values)} values, not {len(refs)}")
                store.update(zip(refs, values, strict=True))

            self.cluster.run_one(self.party, body)
            objs = [PYUObject(self, ref) for ref in refs]
            return objs[0] if num_returns is None else tuple(objs)

        return run

    def release(self, *objs: PYUObject) -> None:
        """Forget the values of `objs` at this party, freeing their memory; using them again
        fails. For values needed once, such as a block of input rows already shared into an
        SPU: a party's store otherwise keeps every value until the session ends."""
        for obj in objs:
            if obj.device.party != self.party:
                raise PartyError(f"{obj!r} does not live on {self!r}")
        refs = [obj.ref for obj in objs]

        def body():
            store = self.cluster.store(self.party)
            for ref in refs:
                store.pop(ref, None)

        self.cluster.run_one(self.party, body)

    def local(self, obj: PYUObject) -> Any:
        """The value of `obj` where this party's code runs in this process (every party in a
        simulation), None elsewhere (a deployment's other processes).

        Nothing crosses a link, unlike `fetch` / `reveal`: the other parties learn nothing, so
        this is how a caller reads what its own party keeps (a column's name, a detail for its
        own users) without disclosing it."""
        if obj.device.party != self.party:
            raise PartyError(f"{obj!r} does not live on {self!r}")
        cluster = self.cluster
        return cluster.run_one(self.party, lambda: cluster.store(self.party)[obj.ref])

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

    def _receive_from_pyu(self, obj: PYUObject) -> PYUObject:
        if obj.device.party == self.party:
            return obj
        cluster = self.cluster
        src, dst = obj.device.party, self.party
        ref = cluster.new_id()

        def send():
            cluster.link(src).send(cluster.rank(dst), cluster.store(src)[obj.ref])

        def recv():
            cluster.store(dst)[ref] = cluster.link(dst).recv(cluster.rank(src))

        cluster.run_all(
            [src, dst], [send, recv], step=f"move of value {obj.ref} from {src!r} to {dst!r}"
        )
        return PYUObject(self, ref)

    def fetch(self, obj: PYUObject) -> Any:
        """The plaintext value (used by `reveal`).

        In a deployment the owner sends it to every other party that runs the program (they all
        ask for it; dealer nodes do not); the value must then be a typed-frame value
        (numbers, strings, bytes, numpy arrays and lists/tuples/dicts of them).
        """
        cluster = self.cluster
        if cluster.simulation:
            return cluster.run_one(self.party, lambda: cluster.store(self.party)[obj.ref])
        owner = cluster.rank(self.party)
        askers = [p for p in cluster.program_parties if p != self.party]
        programs = [
            lambda: deliver(cluster, self.party, askers, cluster.store(self.party)[obj.ref])
        ]
        programs += [(lambda p=p: cluster.link(p).recv(owner)) for p in askers]
        step = f"reveal of value {obj.ref} of {self.party!r} to {askers}"
        return cluster.run_all([self.party, *askers], programs, step=step)[0]


def deliver(cluster, owner: str, askers: list[str], value: Any) -> Any:
    """Run at `owner`: send `value` to each of `askers` on the cluster's link; return it."""
    for party in askers:
        cluster.link(owner).send(cluster.rank(party), value)
    return value
