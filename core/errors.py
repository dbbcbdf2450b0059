"""Exceptions raised by the engine.

Every error names the bad value. Callers above the engine (workflows, console) translate these
into user-facing messages; they never need to parse the text.
"""


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class ConfigError(EngineError):
    """A runtime, cluster or device configuration is invalid."""


class PartyError(EngineError):
    """A value names a party that is unknown, or lives on the wrong party."""


class ShapeError(EngineError):
    """Operands have shapes that cannot be combined."""


class UnsupportedOperation(EngineError):
    """An operation has no secure implementation; it is refused rather than run in the clear."""


class EncodingError(EngineError):
    """A value cannot be encoded (unsupported dtype, out of fixed-point range, ...)."""


class LinkError(EngineError):
    """A party link was closed, timed out or received an unexpected message."""


class PartyFailure(EngineError):
    """A party's program raised; carries the party name so callers can report where it failed."""

    def __init__(self, party: str, error: BaseException):
        super().__init__(f"party {party!r} failed: {type(error).__name__}: {error}")
        self.party = party
        self.error = error
