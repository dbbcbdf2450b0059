"""Runtime configuration of an SPU: protocol, field and fixed-point precision."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import ConfigError

PROTOCOLS = ("REF2K", "SEMI2K", "ABY3")
FIELDS = ("FM64",)
MAX_FRACTION_BITS = 26  # products carry 2f fraction bits and must stay far below 2^62


@dataclass(frozen=True)
class RuntimeConfig:
    """What every party of an SPU agrees on before computing.

    `protocol`: REF2K (plaintext oracle, NOT secure), SEMI2K (n >= 2 parties, trusted dealer,
    semi-honest) or ABY3 (exactly 3 parties, honest majority). `field`: FM64 (ring Z_2^64).
    `fxp_fraction_bits`: fixed-point fraction bits (18 by default, like SPU on FM64).
    """

    protocol: str = "SEMI2K"
    field: str = "FM64"
    fxp_fraction_bits: int = 18

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ConfigError(f"unknown protocol {self.protocol!r}; choose one of {PROTOCOLS}")
        if self.field not in FIELDS:
            raise ConfigError(f"unsupported field {self.field!r}; choose one of {FIELDS}")
        bits = self.fxp_fraction_bits
        if (
            isinstance(bits, bool)
            or not isinstance(bits, int)
            or not 1 <= bits <= MAX_FRACTION_BITS
        ):
            raise ConfigError(
                f"fxp_fraction_bits must be an int in 1..{MAX_FRACTION_BITS}, got {bits!r}"
            )

    def check_world_size(self, world_size: int) -> None:
        """Raise ConfigError if the protocol cannot run with `world_size` parties."""
        if self.protocol == "ABY3" and world_size != 3:
            raise ConfigError(f"ABY3 needs exactly 3 parties, got {world_size}")
        if self.protocol == "SEMI2K" and world_size < 2:
            raise ConfigError(f"SEMI2K needs at least 2 parties, got {world_size}")
        if world_size < 1:
            raise ConfigError(f"an SPU needs at least one party, got {world_size}")

    @classmethod
    def from_dict(cls, spec: dict) -> RuntimeConfig:
        """Build from a SecretFlow-style dict (`protocol`, `field`, `fxp_fraction_bits`)."""
        if not isinstance(spec, dict):
            raise ConfigError(f"runtime_config must be a dict, got {type(spec).__name__}")
        unknown = set(spec) - {"protocol", "field", "fxp_fraction_bits"}
        if unknown:
            raise ConfigError(f"unknown runtime_config keys {sorted(unknown)}")
        return cls(**spec)
