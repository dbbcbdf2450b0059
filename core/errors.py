"""Exceptions raised by the engine.

Every error names the bad value. Callers above the engine (workflows, console) translate these
into user-facing messages; they never need to parse the text.
"""

from __future__ import annotations

import math


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


DEFAULT_RANGE_FIX = (
    "scale the input (for example standardise it) or choose more integer bits (fewer "
    "fxp_fraction_bits, or field FM128; core.mpc.precision.plan_precision picks them from "
    "the data)"
)


def format_bound(bound: float) -> str:
    """A bound for people: '2^43 (8.8e+12)' for powers of two, '11.09' otherwise."""
    if bound > 0 and math.isfinite(bound):
        exponent = math.log2(bound)
        if exponent == int(exponent) and abs(exponent) >= 4:
            return f"2^{int(exponent)} ({bound:.3g})"
    return f"{bound:.6g}"


class RangeError(EncodingError):
    """A value or a result is outside the range its fixed-point encoding or kernel can hold.

    `operation` names what refused (e.g. "SPU input", "multiply", "exp"), `bound` is the safe
    limit that was exceeded (a magnitude, or the edge of the kernel's domain) and `label` the
    name the caller gave the input (a column, a dataset), when known. The message names all
    three and the fix; it carries no secret value, only public bounds, so it may cross parties.
    `problem` is the engine's account of what was exceeded: a `core.range_problems.RangeProblem`
    (its English text, and a stable code with the figures, for the layers above to word in
    their reader's language) when the engine raises it, or plain text from other callers.

    `secondhand` marks the copy raised by the parties that did not own a refused SPU input:
    its `problem` says only that the input failed its owner's check (how many of the owner's
    values failed is the owner's to know), so callers prefer the owner's own error.
    """

    def __init__(
        self,
        operation: str,
        bound: float,
        problem: str,
        *,
        label: str | None = None,
        fix: str | None = None,
        secondhand: bool = False,
    ):
        self.operation = operation
        self.bound = float(bound)
        self.problem = problem
        self.label = label
        self.fix = DEFAULT_RANGE_FIX if fix is None else fix
        self.secondhand = secondhand
        where = f"{operation} of {label!r}" if label else operation
        super().__init__(f"{where}: {problem} (safe bound {format_bound(self.bound)}); {self.fix}")

    def with_label(self, label: str | None) -> RangeError:
        """The same error naming the caller's input (e.g. a column), for re-raising above."""
        return RangeError(
            self.operation,
            self.bound,
            self.problem,
            label=label,
            fix=self.fix,
            secondhand=self.secondhand,
        )

    def __reduce__(self):
        return _rebuild_range_error, (
            self.operation,
            self.bound,
            self.problem,
            self.label,
            self.fix,
            self.secondhand,
        )


def _rebuild_range_error(operation, bound, problem, label, fix, secondhand=False) -> RangeError:
    return RangeError(operation, bound, problem, label=label, fix=fix, secondhand=secondhand)


class LinkError(EngineError):
    """A party link was closed, timed out or received an unexpected message.

    `cause` is why, as data (`core.comm.causes.LinkCause`: a stable code and params, for the
    layers above to word in their reader's language), when the engine knows it; the text is
    the same English either way. `LinkError(cause)` takes both from a cause."""

    def __init__(self, message: str = "", cause: str | None = None):
        super().__init__(message)
        self.cause = cause if cause is not None else _cause_of(message)

    def __reduce__(self):
        return type(self), (str(self), self.cause)


def _cause_of(message: object):
    code = getattr(message, "code", None)  # a LinkCause (a str with a code)
    return message if isinstance(message, str) and isinstance(code, str) else None


class PartyFailure(EngineError):
    """A party's program raised; carries the party name so callers can report where it failed."""

    def __init__(self, party: str, error: BaseException):
        super().__init__(f"party {party!r} failed: {type(error).__name__}: {error}")
        self.party = party
        self.error = error
