"""Errors specific to private set intersection.

They derive from the engine's base classes in `core.errors`, so callers that catch
`EngineError` (the workflows layer, the console) handle them without knowing PSI.
"""

from core.errors import EngineError


class DuplicateKeyError(EngineError):
    """A party's input holds the same key on two rows and duplicates were not allowed."""


class EmptyIntersectionError(EngineError):
    """The intersection is empty and the caller asked to refuse an empty result."""


class PsiCancelled(EngineError):
    """The caller's cancel check returned True; the run stopped between two chunks."""


class LowOrderPointError(EngineError):
    """X25519 produced the all-zero output: the input point lies in the small subgroup.

    For points obtained by hashing keys this happens with probability about 2^-250 per key,
    so in practice it means a peer sent a value that is not a masked point.
    """


class CuckooHashingError(EngineError):
    """KKRT-PSI could not place the receiver's keys in its cuckoo table (probability < 2^-40).

    The hash functions are drawn afresh for every run, so running the PSI again succeeds.
    """
