"""Party-local share containers.

Every protocol stores one party's share of a tensor of shape S as an array of ring elements
(uint64 for FM64, `core.mpc.ring128.U128Array` for FM128) of shape (c, *S): c components
(1 for REF2K and SEMI2K, 2 for ABY3's replicated pairs). Structural operations (indexing,
reshape, transpose, concatenation, sums) act on each component alike, so
they are local and identical for every protocol.

`AShare` is additive (arithmetic) sharing mod 2^bits, `BShare` XOR sharing of words: ring
words, or uint64 words inside the comparison circuits of either ring. Public values are plain
ring arrays: secret and public never share a type. A share built from an FM128 array that lost
its subclass (np.stack, np.zeros, a received frame) gets it back here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.mpc.ring128 import wrap


@dataclass(frozen=True)
class _Share:
    data: np.ndarray  # ring words, shape (components, *shape)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", wrap(self.data))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape[1:])

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def map(self, fn: Callable[[np.ndarray], np.ndarray]):
        """Apply a local structural function to every component."""
        return type(self)(np.stack([fn(part) for part in self.data]))

    def __getitem__(self, index):
        return self.map(lambda part: part[index])


class AShare(_Share):
    """One party's additive share (or REF2K plaintext) of a ring tensor."""


class BShare(_Share):
    """One party's XOR share of a tensor of words (ring words, or uint64 in circuits)."""


def stack_shares(shares: list, axis: int = 0):
    """Stack same-kind shares along a new tensor axis (local)."""
    kind = type(shares[0])
    return kind(np.stack([s.data for s in shares], axis=axis + 1 if axis >= 0 else axis))


def concat_shares(shares: list, axis: int = 0):
    """Concatenate same-kind shares along an existing tensor axis (local)."""
    kind = type(shares[0])
    ax = axis + 1 if axis >= 0 else axis
    return kind(np.concatenate([s.data for s in shares], axis=ax))


def flat_concat(shares: list):
    """Concatenate shares of any shapes into one flat share, and the sizes to split it back."""
    kind = type(shares[0])
    sizes = [s.size for s in shares]
    data = np.concatenate([s.data.reshape(s.data.shape[0], -1) for s in shares], axis=1)
    return kind(data), sizes


def flat_split(share, like: list):
    """Inverse of `flat_concat`: split a flat share back into the shapes of `like`."""
    kind = type(share)
    out, start = [], 0
    for ref in like:
        stop = start + ref.size
        out.append(kind(share.data[:, start:stop].reshape(share.data.shape[0], *ref.shape)))
        start = stop
    return out
