"""What an SPU's parties must agree on, parsed from a SecretFlow-style `cluster_def`.

Besides `runtime_config`'s protocol settings (`core.mpc.config.RuntimeConfig`), SEMI2K needs a
source of correlated randomness (SPU's `beaver_type`):

- not given: in a simulation, an in-process dealer thread (`core.mpc.correlated.TrustedDealer`);
  a deployment refuses to guess and asks for one of the two below.
- `"TrustedFirstParty"` with optional `"trusted_party"` (default: the first SPU party): that
  party generates every correlation from PRG seeds (`core.mpc.correlated.first_party`); it must
  be trusted by the others not to look at what it generated.
- `"TrustedThirdParty"` with `"ttp_party"`: a dealer process, a cluster node that is not an SPU
  party and colludes with none (`core.mpc.correlated.remote`); a deployment requires it to be
  declared with `"role": "dealer"` in cluster_config (it then runs no program and is sent no
  revealed value); in a simulation the in-process dealer thread plays it.

ABY3 and REF2K need no correlations and refuse a `beaver_type`. In a deployment every SPU party
checks, at setup, that every other party built the same SPU (`SPUConfig.describe`,
`core.device.agreement`).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import ConfigError
from core.mpc.config import RuntimeConfig

BEAVER_TYPES = ("TrustedFirstParty", "TrustedThirdParty")


@dataclass(frozen=True)
class Beaver:
    """Where SEMI2K's correlations come from: `kind` (None: simulation's dealer) and `party`."""

    kind: str | None = None
    party: str | None = None


@dataclass(frozen=True)
class SPUConfig:
    parties: list[str]
    runtime: RuntimeConfig
    beaver: Beaver
    addresses: dict[str, str]  # every node's address, or none (honoured by deployments)

    def describe(self) -> dict:
        """Everything that must be equal on every party (checked in a deployment's setup)."""
        return {
            "parties": list(self.parties),
            "protocol": self.runtime.protocol,
            "field": self.runtime.field,
            "fxp_fraction_bits": self.runtime.fxp_fraction_bits,
            "trunc_mode": self.runtime.trunc_mode,
            # range checks open comparison bits: a party without them would skip messages
            "range_checks": self.runtime.range_checks,
            "beaver_type": self.beaver.kind,
            "beaver_party": self.beaver.party,
        }


def parse_cluster_def(cluster_def: dict) -> SPUConfig:
    if not isinstance(cluster_def, dict) or "nodes" not in cluster_def:
        raise ConfigError("cluster_def must be a dict with 'nodes' (and optional 'runtime_config')")
    parties = [
        node.get("party") if isinstance(node, dict) else node for node in cluster_def["nodes"]
    ]
    if len(set(parties)) != len(parties) or not parties:
        raise ConfigError(f"cluster_def nodes must name distinct parties, got {parties!r}")
    spec = cluster_def.get("runtime_config", {})
    if not isinstance(spec, dict):
        raise ConfigError(f"runtime_config must be a dict, got {type(spec).__name__}")
    spec = dict(spec)
    beaver_spec = {
        k: spec.pop(k) for k in ("beaver_type", "trusted_party", "ttp_party") if k in spec
    }
    runtime = RuntimeConfig.from_dict(spec)
    addresses = {
        node["party"]: node["address"]
        for node in cluster_def["nodes"]
        if isinstance(node, dict) and isinstance(node.get("address"), str)
    }
    if addresses and len(addresses) != len(parties):
        missing = [p for p in parties if p not in addresses]
        raise ConfigError(
            f"cluster_def gives addresses for {sorted(addresses)} but not for {missing}: give "
            "every node an address (the SPU's own links listen there) or none (its links "
            "then share the cluster's)"
        )
    beaver = _parse_beaver(beaver_spec, parties, runtime.protocol)
    return SPUConfig(parties, runtime, beaver, addresses)


def _parse_beaver(spec: dict, parties: list[str], protocol: str) -> Beaver:
    kind = spec.get("beaver_type")
    if kind is None:
        if spec:
            raise ConfigError(f"{sorted(spec)} given without a beaver_type")
        return Beaver()
    if protocol != "SEMI2K":
        raise ConfigError(f"beaver_type applies to SEMI2K only; {protocol} needs no dealer")
    if kind not in BEAVER_TYPES:
        raise ConfigError(f"unknown beaver_type {kind!r}; choose one of {BEAVER_TYPES}")
    if kind == "TrustedFirstParty":
        if "ttp_party" in spec:
            raise ConfigError("ttp_party applies to beaver_type 'TrustedThirdParty' only")
        party = spec.get("trusted_party", parties[0])
        if party not in parties:
            raise ConfigError(f"trusted_party {party!r} is not one of the SPU parties {parties}")
        return Beaver(kind, party)
    if "trusted_party" in spec:
        raise ConfigError("trusted_party applies to beaver_type 'TrustedFirstParty' only")
    party = spec.get("ttp_party")
    if not isinstance(party, str) or not party:
        raise ConfigError("beaver_type 'TrustedThirdParty' needs 'ttp_party': the dealer's node")
    if party in parties:
        raise ConfigError(f"ttp_party {party!r} must not be an SPU party: it would see both sides")
    return Beaver(kind, party)
