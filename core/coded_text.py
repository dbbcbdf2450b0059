"""English text that also says what it says as data: a stable code and its params.

The engine's errors are read by Python users as English, and by the console in each reader's
language. A `CodedText` serves both: it is a `str` whose text is the English words (so logs,
`str(error)` and any code treating it as text keep working) and it carries `code` and `params`,
from which the layers above word it in a reader's language without parsing the text. Each kind
(`core.comm.causes.LinkCause` for link failures, `core.range_problems.RangeProblem` for range
refusals) is a subclass with its one table of codes and English templates (`str.format`).
A coded text survives pickling (a party's error crossing a process boundary in tests and
workers) as its code and params.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class CodedText(str):
    """English text from `TEMPLATES[code]` and `params`; subclasses set `TEMPLATES` and `KIND`
    and may check params (`_check`) or word a code their own way (`_english`)."""

    TEMPLATES: ClassVar[Mapping[str, str]]
    KIND: ClassVar[str]  # what an unknown code is called in its error

    code: str
    params: dict[str, Any]

    def __new__(cls, code: str, **params: Any) -> CodedText:
        if code not in cls.TEMPLATES:
            raise ValueError(f"unknown {cls.KIND} {code!r}")
        cls._check(code, params)
        self = super().__new__(cls, cls._english(code, params))
        self.code, self.params = code, dict(params)
        return self

    def __reduce__(self):
        return _rebuild, (type(self), self.code, self.params)

    @classmethod
    def _check(cls, code: str, params: Mapping[str, Any]) -> None:
        """Raise TypeError for params this kind does not take (default: any are taken)."""

    @classmethod
    def _english(cls, code: str, params: Mapping[str, Any]) -> str:
        return cls.TEMPLATES[code].format(**params)


def _rebuild(kind: type[CodedText], code: str, params: Mapping[str, Any]) -> CodedText:
    return kind(code, **params)
