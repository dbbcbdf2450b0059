"""HEU: Paillier homomorphic encryption with the secret key held by one party.

`HEU(config)` generates a key pair at the `sk_keeper` party and sends the public key to every
evaluator over the link. `pyu_obj.to(heu)` encrypts at the value's own party (which must hold the
public key); the ciphertext stays there (`HEUObject.location`). Ciphertexts add to each other and
multiply by plaintext (numbers, arrays, or `PYUObject`s of the same party) on the party that
holds them; `heu_obj.to(heu, party=...)` sends them to another key holder; `heu_obj.to(pyu)`
sends them to the key owner, who decrypts, then passes the plaintext to `pyu`'s party.
In a deployment the HEU's parties first check that they all built the same HEU (key owner,
evaluators, key size: `core.device.agreement`). Scheme, assumptions and threat model: `core.he`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from core.comm.causes import LinkCause
from core.device import runtime
from core.device.agreement import check_same_device
from core.device.pyu import PYU, PYUObject
from core.errors import ConfigError, EncodingError, LinkError, PartyError


def _parse_config(config: dict) -> tuple[str, list[str], int]:
    if not isinstance(config, dict) or "sk_keeper" not in config:
        raise ConfigError("HEU config needs 'sk_keeper': {'party': ...} and 'evaluators'")
    keeper = (
        config["sk_keeper"]["party"]
        if isinstance(config["sk_keeper"], dict)
        else config["sk_keeper"]
    )
    evaluators = [e["party"] if isinstance(e, dict) else e for e in config.get("evaluators", [])]
    params = config.get("he_parameters", {})
    schema = params.get("schema", "paillier")
    if schema != "paillier":
        raise ConfigError(f"unsupported HE schema {schema!r}; only 'paillier' is available")
    bits = params.get("key_pair", {}).get("generate", {}).get("bit_size", 2048)
    return keeper, [e for e in evaluators if e != keeper], int(bits)


class HEUObject:
    """Ciphertexts held by one party (`location`)."""

    def __init__(self, device: HEU, location: str, ref: int):
        self.device, self.location, self.ref = device, location, ref

    def __repr__(self) -> str:
        return f"HEUObject(location={self.location!r}, ref={self.ref})"

    def __add__(self, other) -> HEUObject:
        return self.device._apply(self, other, lambda ct, v: ct + v)

    __radd__ = __add__

    def __sub__(self, other) -> HEUObject:
        return self.device._apply(self, other, lambda ct, v: ct - v)

    def __mul__(self, other) -> HEUObject:
        if isinstance(other, HEUObject):
            raise ConfigError(
                "Paillier cannot multiply two ciphertexts; one side must be plaintext"
            )
        return self.device._apply(self, other, lambda ct, v: ct * v)

    __rmul__ = __mul__

    def sum(self, axis=None) -> HEUObject:
        return self.device._apply(self, None, lambda ct, _: ct.sum(axis))

    def dot(self, matrix) -> HEUObject:
        return self.device._apply(self, matrix, lambda ct, v: ct.dot(v))

    def to(self, device, party: str | None = None) -> Any:
        """Decrypt towards a PYU (via the key owner), or move to another key holder of `device`."""
        if isinstance(device, PYU):
            return self.device._decrypt_to(self, device)
        if device is self.device and party is not None:
            return self.device._move(self, party)
        raise PartyError(f"cannot move an HEUObject to {device!r}")


class HEU:
    """A Paillier device: key owner `sk_keeper`, public key also held by the evaluators."""

    def __init__(self, config: dict):
        self.cluster = cluster = runtime.current()
        self.keeper, self.evaluators, bits = _parse_config(config)
        for party in [self.keeper, *self.evaluators]:
            cluster.check_party(party)
        self.parties = [self.keeper, *self.evaluators]
        # Keys and ciphertexts of the parties running here only (one in a deployment).
        self._keys: dict[str, Any] = {}
        self._ct: dict[str, dict[int, Any]] = {p: {} for p in self.parties if cluster.is_local(p)}
        self._setup(bits)

    def __repr__(self) -> str:
        return f"HEU(keeper={self.keeper!r}, evaluators={self.evaluators})"

    def describe(self, bits: int) -> dict:
        """What every HEU party must agree on (checked at setup in a deployment)."""
        return {"keeper": self.keeper, "evaluators": sorted(self.evaluators), "bit_size": bits}

    def _setup(self, bits: int) -> None:
        from core.he import PublicKey, generate_keypair  # imported lazily: gmpy2 is heavy

        cluster = self.cluster
        keeper_rank = cluster.rank(self.keeper)

        def agree(party: str) -> None:
            """In a deployment: every HEU party built this HEU (`core.device.agreement`)."""
            if cluster.simulation:
                return
            peers = [cluster.rank(p) for p in self.parties if p != party]
            check_same_device(cluster.link(party), self.describe(bits), "HEU", peers)

        def keeper_program():
            agree(self.keeper)
            pk, sk = generate_keypair(bits)
            self._keys[self.keeper] = (pk, sk)
            for party in self.evaluators:
                cluster.link(self.keeper).send(cluster.rank(party), pk.to_bytes())

        def evaluator_program(party: str):
            def run():
                agree(party)
                received = cluster.link(party).recv(keeper_rank)
                key = _from_peer(self.keeper, "public key", lambda: PublicKey.from_bytes(received))
                self._keys[party] = (key, None)

            return run

        programs = [keeper_program] + [evaluator_program(p) for p in self.evaluators]
        cluster.run_all(self.parties, programs, step="HEU setup")

    # ----- encryption, evaluation, transfers --------------------------------------------
    def _check_holder(self, party: str) -> None:
        if party not in self.parties:
            raise PartyError(
                f"party {party!r} holds no key of {self!r}; parties are {self.parties}"
            )

    def _receive_from_pyu(self, obj: PYUObject) -> HEUObject:
        party = obj.device.party
        self._check_holder(party)
        cluster = self.cluster
        ref = cluster.new_id()

        def encrypt():
            pk, sk = self._keys[party]
            value = np.asarray(cluster.store(party)[obj.ref])
            self._ct[party][ref] = (sk or pk).encrypt_array(value)

        cluster.run_one(party, encrypt)
        return HEUObject(self, party, ref)

    def _apply(self, obj: HEUObject, other, op) -> HEUObject:
        cluster = self.cluster
        party = obj.location
        if isinstance(other, HEUObject) and other.location != party:
            raise PartyError(
                f"ciphertexts live on {party!r} and {other.location!r}; move one first"
            )
        if isinstance(other, PYUObject) and other.device.party != party:
            raise PartyError(f"{other!r} is not on {party!r}, where the ciphertext lives")
        ref = cluster.new_id()

        def run():
            if isinstance(other, HEUObject):
                value = self._ct[party][other.ref]
            elif isinstance(other, PYUObject):
                value = cluster.store(party)[other.ref]
            else:
                value = other
            self._ct[party][ref] = op(self._ct[party][obj.ref], value)

        cluster.run_one(party, run)
        return HEUObject(self, party, ref)

    def _move(self, obj: HEUObject, party: str) -> HEUObject:
        self._check_holder(party)
        if party == obj.location:
            return obj
        cluster = self.cluster
        src, dst = obj.location, party
        ref = cluster.new_id()

        def send():
            cluster.link(src).send(cluster.rank(dst), self._ct[src][obj.ref].to_bytes())

        def recv():
            from core.he import CiphertextArray

            pk = self._keys[dst][0]
            received = cluster.link(dst).recv(cluster.rank(src))
            read = lambda: CiphertextArray.from_bytes(received, pk)  # noqa: E731
            self._ct[dst][ref] = _from_peer(src, "ciphertext array", read)

        step = f"move of ciphertexts {obj.ref} from {src!r} to {dst!r}"
        cluster.run_all([src, dst], [send, recv], step=step)
        return HEUObject(self, party, ref)

    def _decrypt_to(self, obj: HEUObject, pyu: PYU) -> PYUObject:
        at_keeper = self._move(obj, self.keeper)
        cluster = self.cluster
        ref = cluster.new_id()

        def decrypt():
            sk = self._keys[self.keeper][1]
            cluster.store(self.keeper)[ref] = sk.decrypt_array(self._ct[self.keeper][at_keeper.ref])

        cluster.run_one(self.keeper, decrypt)
        plain = PYUObject(PYU(self.keeper), ref)
        return plain if pyu.party == self.keeper else plain.to(pyu)

    def reveal(self, obj: HEUObject) -> Any:
        """Plaintext for the caller: decrypted by the key owner."""
        return _fetch(obj.to(PYU(self.keeper)))


def _from_peer(peer: str, what: str, read: Callable[[], Any]) -> Any:
    """`read()` of what `peer` sent; a LinkError naming `peer` if it is malformed (the
    decoding errors name sizes and key ids, never a value)."""
    from core.he import KeyMismatchError  # (gmpy2 is heavy: see `_setup`)

    try:
        return read()
    except (EncodingError, KeyMismatchError, TypeError, ValueError) as exc:
        cause = LinkCause("malformed_message", peer=peer, what=what, problem=str(exc)[:300])
        raise LinkError(cause) from None


def _fetch(obj: PYUObject) -> Any:
    return obj.device.fetch(obj)
