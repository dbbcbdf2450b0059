"""One party's view of an SPU session: its protocol instance plus the fixed-point encoding."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.mpc.fixedpoint import FixedPoint
from core.mpc.protocols.base import Protocol


@dataclass
class MPCContext:
    """Everything a kernel needs on one party: `proto` (with its link) and `fxp`.

    `range_checks` is `RuntimeConfig.range_checks`: whether kernels whose input may leave
    their domain detect it (opening one public bit) or clamp it (`core.mpc.kernels.domains`),
    and whether the SPU publishes input bounds.
    """

    proto: Protocol
    fxp: FixedPoint
    range_checks: bool = True

    @property
    def frac_bits(self) -> int:
        return self.fxp.fraction_bits

    def encode(self, value, what: str = "public operand") -> np.ndarray:
        return self.fxp.encode(value, what)
