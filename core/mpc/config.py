"""Runtime configuration of an SPU: protocol, field and fixed-point precision."""

from __future__ import annotations

from dataclasses import dataclass, fields

from core.errors import ConfigError

PROTOCOLS = ("REF2K", "SEMI2K", "ABY3")
FIELDS = ("FM64", "FM128")
# Truncation after fixed-point products: "auto" is "exact" for every protocol; "local" is the
# probabilistic opt-in of SEMI2K (2 parties) and ABY3 (see protocols.semi2k, protocols.aby3)
TRUNC_MODES = ("auto", "local", "exact")
# Protocols with a choice of truncation (REF2K has one, exact)
TRUNC_MODE_PROTOCOLS = ("SEMI2K", "ABY3")
# Products carry 2f fraction bits and must stay far below 2^(bits - 2); the kernels' internal
# precision plans (poly, exp, normalisation) also need 2f well inside the ring.
MAX_FRACTION_BITS = {"FM64": 26, "FM128": 48}
DEFAULT_FRACTION_BITS = {"FM64": 18, "FM128": 26}  # SPU's defaults


@dataclass(frozen=True)
class RuntimeConfig:
    """What every party of an SPU agrees on before computing.

    `protocol`: REF2K (plaintext oracle, NOT secure), SEMI2K (n >= 2 parties, trusted dealer,
    semi-honest) or ABY3 (exactly 3 parties, honest majority). `field`: FM64 (ring Z_2^64,
    the default) or FM128 (ring Z_2^128: two 64-bit limbs per element, see
    `core.mpc.ring128`; for data whose products FM64 cannot hold, several times slower).
    `fxp_fraction_bits`: fixed-point fraction bits (None: SPU's default, 18 on FM64 and 26 on
    FM128; at most 26 on FM64 and 48 on FM128).
    `trunc_mode`: the truncation after fixed-point products, for SEMI2K and ABY3. "exact" is
    exact to one unit for |x| < 2^62 (2^126 on FM128): SEMI2K opens one dealer-masked ring
    word per element, ABY3 computes the wrap count of a two-party resharing with one AND by
    an oblivious transfer (32 bytes per element over its three parties on FM64, one round;
    a fixed-point product with it costs 12 bytes per element and party).
    "local" is a probabilistic truncation: cheaper (SEMI2K: SecureML's local truncation, no
    message, 2 parties only; ABY3: Share Truncation I, one ring word from one party, one
    round), but each element is off by 2^(k - f) units with probability |x| / 2^k for the
    ring's k bits: about 2^-28 for a product of two values near 1 with f = 18 on FM64, one
    silently wrong element per ~2^28 truncations. It is an explicit opt-in (SPU's 2-party
    SEMI2K default; SPU's ABY3 truncates exactly). "auto" (the default) is "exact", so a green
    result is never silently wrong. REF2K accepts only "auto".
    `range_checks` (default True): guard against silently wrong numbers (see
    `core.mpc.bounds`). Inputs then carry a public magnitude bound, which reveals the order of
    magnitude of each shared input (the next power of two of its largest |x|) to every party,
    and each kernel whose input may leave its domain opens ONE public bit per call ("some
    element is out of range"), at the cost of one batched secure comparison (and one more on
    the count of violations; see `core.mpc.kernels.domains`). False (for benchmarks, or
    when even magnitude orders must stay private) publishes no input bounds and opens no bits;
    bounds still come from declared input bounds and public operands, and out-of-domain
    kernel results are then undefined, as documented per kernel.
    """

    protocol: str = "SEMI2K"
    field: str = "FM64"
    fxp_fraction_bits: int | None = None
    trunc_mode: str = "auto"
    range_checks: bool = True

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ConfigError(f"unknown protocol {self.protocol!r}; choose one of {PROTOCOLS}")
        if self.field not in FIELDS:
            raise ConfigError(f"unsupported field {self.field!r}; choose one of {FIELDS}")
        bits = self.fxp_fraction_bits
        if bits is None:  # frozen: the resolved default is stored once, here
            bits = DEFAULT_FRACTION_BITS[self.field]
            object.__setattr__(self, "fxp_fraction_bits", bits)
        most = MAX_FRACTION_BITS[self.field]
        if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= most:
            raise ConfigError(
                f"fxp_fraction_bits must be an int in 1..{most} for {self.field}, got {bits!r}"
            )
        if not isinstance(self.trunc_mode, str) or self.trunc_mode not in TRUNC_MODES:
            raise ConfigError(
                f"unknown trunc_mode {self.trunc_mode!r}; choose one of {TRUNC_MODES}"
            )
        if not isinstance(self.range_checks, bool):
            raise ConfigError(f"range_checks must be True or False, got {self.range_checks!r}")
        if self.protocol not in TRUNC_MODE_PROTOCOLS and self.trunc_mode != "auto":
            raise ConfigError(
                f"trunc_mode {self.trunc_mode!r} applies to SEMI2K and ABY3 only; "
                f"{self.protocol} has a single truncation (use 'auto')"
            )

    def check_world_size(self, world_size: int) -> None:
        """Raise ConfigError if the protocol cannot run with `world_size` parties."""
        if self.protocol == "ABY3" and world_size != 3:
            raise ConfigError(f"ABY3 needs exactly 3 parties, got {world_size}")
        if self.protocol == "SEMI2K" and world_size < 2:
            raise ConfigError(f"SEMI2K needs at least 2 parties, got {world_size}")
        if world_size < 1:
            raise ConfigError(f"an SPU needs at least one party, got {world_size}")
        if self.protocol == "SEMI2K" and self.trunc_mode == "local" and world_size != 2:
            raise ConfigError(
                f"trunc_mode 'local' needs exactly 2 SEMI2K parties, got {world_size}: "
                "local truncation of n > 2 additive shares fails for a constant fraction of "
                "elements; use 'exact' or 'auto'"
            )

    def resolved_trunc_mode(self) -> str:
        """The truncation ("local" or "exact") that `trunc_mode` selects; REF2K's is "exact"."""
        # "auto" is never "local": at ~2^-28 per element, a pipeline truncating millions of
        # elements would return a silently wrong one every few runs (see semi2k.py, aby3.py).
        if self.trunc_mode == "auto":
            return "exact"
        return self.trunc_mode

    @classmethod
    def from_dict(cls, spec: dict) -> RuntimeConfig:
        """Build from a SecretFlow-style dict (the dataclass fields' names as keys)."""
        if not isinstance(spec, dict):
            raise ConfigError(f"runtime_config must be a dict, got {type(spec).__name__}")
        unknown = set(spec) - {f.name for f in fields(cls)}
        if unknown:
            raise ConfigError(f"unknown runtime_config keys {sorted(unknown)}")
        return cls(**spec)
