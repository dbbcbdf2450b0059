"""SPU: secret-shared compute across several parties (SecretFlow-style).

`SPU(cluster_def)` sets up one protocol instance per party (SEMI2K with a trusted dealer, ABY3,
or the insecure REF2K oracle) on links of its own among its parties. `spu(fn)(*args)` shares
every `PYUObject` argument from its owner, then runs `fn` SPMD: each party runs its own copy of
`fn` on its own `SecretTensor` shares (in its own worker thread in a simulation, in its own
process in a deployment), exchanging messages only over its link. Results stay secret
(`SPUObject`) until `reveal(obj)` (every SPU party learns the value) or `obj.to(PYU(party))`.
Where SEMI2K's correlated randomness comes from, and whom it trusts: `core.device.spu_config`.

In a deployment the cluster's other program parties (not dealers) run the same program too:
their process builds the SPU with no link and no state, and the SPU's first party sends them
what every party of the program asks for, the references a call returns (structure, shapes
and kinds, which their program text fixes anyway) and the values `reveal` opens, as a PYU's
owner sends what it reveals (SecretFlow's production mode: a revealed value reaches every
party that asks). A value revealed to one party with `obj.to(PYU(party))` reaches that party
only.

Sharing an input, its owner checks it fits the fixed-point encoding (RangeError otherwise,
naming no value) and, with `range_checks` on, publishes its order of magnitude (the next power
of two of max |x|) or the interval declared with `core.mpc.bounds.Bounded`; see
`core.mpc.bounds` for what these public bounds guard.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from core.comm.causes import LinkCause
from core.device import runtime
from core.device.agreement import check_same_device
from core.device.pytree import tree_leaves, tree_map
from core.device.pyu import PYU, PYUObject, deliver
from core.device.share_exchange import (
    agree_value_id,
    check_same_export,
    loaded_report,
    refusal_report,
)
from core.device.share_records import load_record, share_record
from core.device.spu_config import parse_cluster_def
from core.device.spu_inputs import checked_header
from core.errors import ConfigError, EncodingError, LinkError, PartyError, RangeError
from core.mpc.bounds import Bounded, Interval, check_declared, published_input_interval
from core.mpc.context import MPCContext
from core.mpc.correlated import TrustedDealer, first_party_triples
from core.mpc.correlated.remote import REQUESTS, remote_triples, reply_channel
from core.mpc.fixedpoint import FixedPoint
from core.mpc.protocols import make_protocol
from core.mpc.ring import ring_for
from core.mpc.tensor import SecretTensor
from core.range_problems import RangeProblem


class SPUObject:
    """A secret-shared value: every SPU party holds its share under the same reference."""

    def __init__(self, device: SPU, ref: int, shape: tuple[int, ...], kind: str):
        self.device = device
        self.ref = ref
        self.shape = shape
        self.kind = kind

    def __repr__(self) -> str:
        return f"SPUObject(shape={self.shape}, kind={self.kind}, ref={self.ref})"

    def to(self, device) -> Any:
        """Reveal to one party (`PYU`) only; other SPUs are not supported."""
        if isinstance(device, PYU):
            return self.device._reveal_to(self, device)
        raise PartyError(f"cannot move an SPUObject to {device!r}")


def secondhand_refusal(operation: str, bound: float, label: str, fix: str) -> RangeError:
    """What the parties other than its owner raise when an SPU input is refused: the input,
    the operation, the public bound and the fix, and only that the input failed."""
    problem = RangeProblem("owner_check_failed")
    return RangeError(operation, bound, problem, label=label, fix=fix, secondhand=True)


class _Ref:
    """What a party reports about one output share (same on every party)."""

    def __init__(self, ref: int, shape: tuple[int, ...], kind: str):
        self.ref, self.shape, self.kind = ref, shape, kind


def _ref_frame(tree: Any) -> Any:
    """A call's output structure (containers of `_Ref` and None) as a typed-frame value."""
    if isinstance(tree, _Ref):
        return ("ref", tree.ref, tuple(tree.shape), tree.kind)
    if isinstance(tree, list | tuple):
        return (type(tree).__name__, [_ref_frame(t) for t in tree])
    if isinstance(tree, dict):
        return ("dict", {k: _ref_frame(v) for k, v in tree.items()})
    if tree is None:
        return ("none",)
    raise TypeError(f"unexpected SPU output leaf {type(tree).__name__}")


def _bind_frame(frame: tuple, device: SPU) -> Any:
    """The SPUObjects (in their containers) that `_ref_frame` describes; ValueError (or
    another error of a malformed structure) for anything else."""
    tag = frame[0]
    if tag == "ref":
        _, ref, shape, kind = frame
        if not (isinstance(ref, int) and all(isinstance(d, int) for d in shape)):
            raise ValueError("malformed reference")
        if kind not in ("bool", "int", "fxp"):
            raise ValueError("unknown kind")
        return SPUObject(device, ref, tuple(shape), kind)
    if tag == "list":
        return [_bind_frame(f, device) for f in frame[1]]
    if tag == "tuple":
        return tuple(_bind_frame(f, device) for f in frame[1])
    if tag == "dict":
        return {k: _bind_frame(f, device) for k, f in frame[1].items()}
    if tag == "none":
        return None
    raise ValueError("unknown tag")


def _name_of(fn: Callable) -> str:
    """A function's name for a step label (its code's, the same in every party's process)."""
    return str(getattr(fn, "__qualname__", type(fn).__name__))[:80]


def _quiet(program: Callable[[], Any]) -> Callable[[], Any]:
    """Ring arithmetic wraps on purpose; numpy only warns about it for 0-d scalars."""

    def run():
        with np.errstate(over="ignore"):
            return program()

    return run


def decode(fxp: FixedPoint, ring: np.ndarray, kind: str):
    """Plaintext from revealed ring values: bool, int64 or float64 (numpy scalars for 0-d)."""
    values = fxp.decode(ring)
    if kind == "bool":
        values = values != 0
    elif kind == "int":
        values = np.rint(values).astype(np.int64)
    return values[()] if values.ndim == 0 else values


class SPU:
    """The secret-sharing device over the parties of `cluster_def`."""

    def __init__(self, cluster_def: dict, seed: int | None = None):
        self.cluster = cluster = runtime.current()
        self.spec = parse_cluster_def(cluster_def)
        self.parties, self.config = self.spec.parties, self.spec.runtime
        for party in self.parties:
            cluster.check_party(party)
        self.config.check_world_size(len(self.parties))
        self._check_deployment(seed)
        self.fxp = FixedPoint(self.config.fxp_fraction_bits, ring_for(self.config.field))
        seed = cluster.seed if seed is None else seed
        self._name = cluster.next_group("spu")
        self._links = cluster.group_links(self.parties, self._name, self.spec.addresses)
        self.dealer = None
        beaver = self.spec.beaver.kind
        if (
            self.config.protocol == "SEMI2K"
            and cluster.simulation
            and beaver != "TrustedFirstParty"
        ):
            # The simulation's dealer thread (also standing in for a TrustedThirdParty).
            self.dealer = TrustedDealer(self.parties, cluster.stats, seed=seed)
            cluster.closers.append(self.dealer.close)
        # Protocol state and shares of the parties running here only (one in a deployment).
        here = [p for p in self.parties if cluster.is_local(p)]
        self._ctx: dict[str, MPCContext] = {}
        self._stores: dict[str, dict[int, SecretTensor]] = {p: {} for p in here}
        self._counters = {p: itertools.count() for p in here}
        # A deployment's program parties outside this SPU run the same program: they hold
        # references to its values and receive what they reveal (`_tell_outsiders`).
        outside = [p for p in cluster.program_parties if p not in self.parties]
        self._outsiders = [] if cluster.simulation else outside
        self._spmd([self._setup_program(p, seed) for p in self.parties], "setup")

    def __repr__(self) -> str:
        return f"SPU({self.parties}, {self.config.protocol})"

    def _check_deployment(self, seed: int | None) -> None:
        cluster = self.cluster
        if cluster.simulation:
            return
        if seed is not None:
            raise ConfigError("a shared test seed is accepted only in a simulation")
        beaver = self.spec.beaver.kind
        if self.config.protocol == "SEMI2K" and beaver is None:
            raise ConfigError(
                "a deployed SEMI2K SPU needs runtime_config 'beaver_type': 'TrustedFirstParty' "
                "(one party generates the correlations and must be trusted not to look) or "
                "'TrustedThirdParty' with 'ttp_party' (a dealer process)"
            )
        if beaver == "TrustedThirdParty" and self.spec.beaver.party not in cluster.dealers:
            raise ConfigError(
                f"ttp_party {self.spec.beaver.party!r} must be a cluster node with "
                f"'role': 'dealer' (dealers {cluster.dealers}): a dealer runs no program and is "
                "sent no revealed value"
            )

    def _setup_program(self, party: str, seed: int | None):
        def program():
            link = self._links[party]
            if not link.simulation:
                check_same_device(link, self.spec.describe(), "SPU")
            triples = None
            beaver = self.spec.beaver
            if beaver.kind == "TrustedFirstParty":
                triples = first_party_triples(link, self.parties.index(beaver.party), seed)
            elif beaver.kind == "TrustedThirdParty" and not link.simulation:
                request = self.cluster.pair_link(beaver.party, REQUESTS)
                reply = self.cluster.pair_link(beaver.party, reply_channel(self._name))
                rank = self.parties.index(party)
                triples = remote_triples(request, reply, self._name, self.parties, rank)
            protocol = make_protocol(self.config, link, self.dealer, seed, triples)
            self._ctx[party] = MPCContext(protocol, self.fxp, range_checks=self.config.range_checks)

        return program

    def _spmd(self, programs: list[Callable[[], Any]], step: str) -> list[Any]:
        """Run one program per SPU party as the joint step `step` (public words)."""
        links = list(self._links.values())
        programs, step = [_quiet(p) for p in programs], f"{self._name}: {step}"
        return self.cluster.run_all(self.parties, programs, links=links, step=step)

    def _tell_outsiders(self, results: list[Any], like: np.ndarray | None = None) -> Any:
        """What the SPU's parties computed (`results` of the local ones, all alike), and in an
        outsider's process what the SPU's first party sent it: a public fact every program
        party asks for (the references a call returns, a revealed value, which must have the
        form of `like`: `Link.recv_like`)."""
        mine = results[0] if results else None
        if not self._outsiders:
            return mine
        cluster, first = self.cluster, self.parties[0]

        def receive(party: str) -> Any:
            link, rank = cluster.link(party), cluster.rank(first)
            return link.recv(rank) if like is None else link.recv_like(rank, like, "a value")

        programs = [lambda: deliver(cluster, first, self._outsiders, mine)]
        programs += [(lambda p=p: receive(p)) for p in self._outsiders]
        step = f"{self._name}: public results to {self._outsiders}"
        got = cluster.run_all([first, *self._outsiders], programs, step=step)
        return got[0] if got else mine

    def _bind(self, frame: Any) -> Any:
        """The SPUObjects a call's output description (`_ref_frame`) names; LinkError naming
        the SPU's first party (who sent it to an outsider) if it is malformed."""
        try:
            return _bind_frame(frame, self)
        except (IndexError, KeyError, TypeError, ValueError, AttributeError) as exc:
            problem = type(exc).__name__
            what = "description of SPU results"
            cause = LinkCause("malformed_message", peer=self.parties[0], what=what, problem=problem)
            raise LinkError(cause) from None

    # ----- running functions ------------------------------------------------------------
    def __call__(self, fn: Callable, num_returns: int | None = None) -> Callable[..., Any]:
        def run(*args, **kwargs):
            for leaf in tree_leaves((args, kwargs)):
                self._check_input(leaf)
            programs = [self._call_program(p, fn, args, kwargs) for p in self.parties]
            results = self._spmd(programs, f"call of {_name_of(fn)}")
            # Every party's structure is the same: describe one (none in an outsider's process).
            frames = [_ref_frame(structure) for structure in results[:1]]
            return self._bind(self._tell_outsiders(frames))

        return run

    def _check_input(self, leaf: Any) -> None:
        if isinstance(leaf, PYUObject) and leaf.device.party not in self.parties:
            raise PartyError(f"{leaf!r} belongs to {leaf.device.party!r}, which is not in {self!r}")
        if isinstance(leaf, SPUObject) and leaf.device is not self:
            raise PartyError(f"{leaf!r} lives on another SPU")

    def _call_program(self, party: str, fn, args, kwargs):
        def program():
            ctx = self._ctx[party]
            to_tensor = lambda leaf: self._input(party, ctx, leaf)  # noqa: E731
            out = fn(*tree_map(to_tensor, args), **tree_map(to_tensor, kwargs))
            # Every party runs the same fn, so its counter hands out the same references.
            return tree_map(lambda leaf: self._keep(party, ctx, leaf, self._counters[party]), out)

        return program

    def _input(self, party: str, ctx: MPCContext, leaf: Any) -> Any:
        if isinstance(leaf, SPUObject):
            return self._stores[party][leaf.ref]
        if not isinstance(leaf, PYUObject):
            return leaf  # public constant, visible to every party alike
        owner = self.parties.index(leaf.device.party)
        link = ctx.proto.link
        if link.rank == owner:
            value = self.cluster.store(party)[leaf.ref]
            header, encoded = self._encode_input(value, leaf.device.party)
            link.send_all(header)
            if isinstance(encoded, RangeError):
                raise encoded  # the owner's own refusal, in full
        else:
            itemsize = self.fxp.ring.dtype.itemsize
            header, encoded = checked_header(link, owner, link.recv(owner), itemsize), None
        if header[0] == "error":
            raise EncodingError(header[1])
        if header[0] == "range":
            raise secondhand_refusal(*header[1:])
        _, shape, kind, interval, label = header
        shape = tuple(shape)
        interval = None if interval is None else Interval(*interval)
        labels = frozenset() if label is None else frozenset([label])
        return SecretTensor(ctx.proto.share(encoded, owner, shape), ctx, kind, interval, labels)

    def _encode_input(self, value: Any, owner: str) -> tuple[tuple, np.ndarray | RangeError]:
        """(header every party receives, encoding) of an input, at its owner.

        The header carries shape, kind, the public interval (the declared one, or with
        `range_checks` [-B, B] for B the next power of two of max |x|) and the label; or the
        error, which names no value. An input out of range gives the owner its RangeError in
        place of the encoding (how many of its values failed: the owner's alone to know) and
        the others a header with only the refusal's public parts (`secondhand_refusal`).
        """
        declared = value if isinstance(value, Bounded) else Bounded(value)
        label = declared.label or f"input from {owner}"
        try:
            arr = np.asarray(declared.value)
            encoded = self.fxp.encode(arr, what="SPU input", secret=True)
            interval = declared.declared_interval()
            if interval is not None:
                check_declared(arr, interval, label)
            elif self.config.range_checks:
                interval = published_input_interval(arr)
        except RangeError as exc:
            refusal = exc.with_label(label)
            return ("range", refusal.operation, refusal.bound, label, refusal.fix), refusal
        except (EncodingError, TypeError, ValueError) as exc:
            return ("error", str(exc)), None
        kind = {"b": "bool", "i": "int", "u": "int"}.get(arr.dtype.kind, "fxp")
        public = None if interval is None else (interval.lo, interval.hi)
        return ("ok", tuple(arr.shape), kind, public, label), encoded

    def _keep(self, party: str, ctx: MPCContext, leaf: Any, fresh) -> Any:
        if leaf is None:
            return None
        if not isinstance(leaf, SecretTensor):
            value = np.asarray(leaf)
            enc = ctx.encode(value, "SPU output")
            leaf = SecretTensor(ctx.proto.public_a(enc), ctx, "fxp", Interval.of_values(value))
        ref = next(fresh)
        self._stores[party][ref] = leaf
        return _Ref(ref, leaf.shape, leaf.kind)

    # ----- leaving the SPU --------------------------------------------------------------
    def _receive_from_pyu(self, obj: PYUObject) -> SPUObject:
        return self(lambda x: x)(obj)

    def reveal(self, obj: SPUObject) -> Any:
        def program(party: str):
            return lambda: self._ctx[party].proto.reveal(self._stores[party][obj.ref].share)

        ring = self._spmd([program(p) for p in self.parties], "reveal to every party")
        ring = self._tell_outsiders(ring, like=np.empty(obj.shape, self.fxp.ring.dtype))
        return decode(self.fxp, ring, obj.kind)

    def _reveal_to(self, obj: SPUObject, pyu: PYU) -> PYUObject:
        if pyu.party not in self.parties:
            raise PartyError(f"{pyu!r} is not a party of {self!r}")
        target = self.parties.index(pyu.party)
        ref = self.cluster.new_id()

        def program(party: str):
            def run():
                ring = self._ctx[party].proto.reveal(self._stores[party][obj.ref].share, to=target)
                if ring is not None:
                    self.cluster.store(party)[ref] = decode(self.fxp, ring, obj.kind)

            return run

        self._spmd([program(p) for p in self.parties], f"reveal to {pyu.party!r}")
        return PYUObject(pyu, ref)

    # ----- persisting shares ------------------------------------------------------------
    def export_shares(self, obj: SPUObject, write: Callable[[str, dict], None]) -> None:
        """Each party hands its own share of `obj` to `write(party, record)`, run at that party.

        Nothing is revealed: the records (`core.device.share_records`) are JSON-ready and meant
        for each party's own storage. The one message is the export's random id, which the
        SPU's first party sends the others so that every record of this export names it
        (`core.device.share_exchange`).
        """
        if not isinstance(obj, SPUObject):
            raise PartyError(f"export_shares needs an SPUObject, got {type(obj).__name__}")
        self._check_input(obj)

        def program(party: str):
            def run():
                value_id = agree_value_id(self._links[party])
                tensor = self._stores[party][obj.ref]
                record = share_record(
                    self.config,
                    self.parties,
                    party,
                    tensor.share,
                    obj.kind,
                    value_id,
                    tensor.interval,
                )
                write(party, record)

            return run

        self._spmd([program(p) for p in self.parties], "export of shares")

    def import_shares(self, read: Callable[[str], dict]) -> SPUObject:
        """A secret value from per-party records: each party loads its own with `read(party)`.

        The records must come from one `export_shares` call (they name its export id) on an SPU
        with the same parties (in the same order), protocol, field and fixed-point precision.
        The parties tell each other what they loaded (`core.device.share_exchange`), so a
        refused record, records of different exports (naming which party holds which) or of
        another shape, kind or interval fail every party with the same ConfigError, and no
        party keeps anything. Records of format `spu-share/1`, which name no export, are
        refused: export the value again. An error of `read` itself is raised at its party; the
        others fail with a ConfigError naming that party and the error's type.
        """

        def program(party: str):
            def run():
                ctx, link = self._ctx[party], self._links[party]
                tensor, report, failure = self._load_own_record(party, ctx, read)
                try:
                    check_same_export(link, report)
                except Exception:
                    if failure is not None:  # this party's own error first, however it ended
                        raise failure from None
                    raise
                return self._keep(party, ctx, tensor, self._counters[party])

            return run

        kept = self._spmd([program(p) for p in self.parties], "import of shares")
        return self._bind(self._tell_outsiders([_ref_frame(ref) for ref in kept[:1]]))

    def _load_own_record(self, party: str, ctx: MPCContext, read: Callable[[str], dict]):
        """`party`'s loaded value (None if refused), its report for the other parties, and the
        error of `read` to raise here if it failed."""
        try:
            record = read(party)
        except Exception as exc:  # noqa: BLE001 - the caller's storage failed: raised here once
            # the others are told, by type only (its text may quote a path or data).
            reason = f"{party!r} could not read its share record ({type(exc).__name__})"
            return None, refusal_report(reason), exc
        try:
            loaded = load_record(self.config, self.parties, party, record, ctx.proto.components)
        except ConfigError as exc:
            return None, refusal_report(str(exc)), None
        tensor = SecretTensor(loaded.share, ctx, loaded.kind, loaded.interval)
        return tensor, loaded_report(loaded), None
