"""Messages kept on runs and sent between nodes, shown in each reader's language.

A run is started by one user and read by many, each in their own language (English or
Simplified Chinese); a node's refusal is written at one node and read at another. So such a
message is stored as what to say, not as text in someone's language, and put into words when
it is read. This module holds the one format and the one function that renders it.

Stored format: a JSON object

    {"msgid": "<the English text, %(name)s placeholders>", "params": {"name": value, ...}}

- `msgid` is the English text as marked for translation (the catalogue's key); only `%(name)s`
  placeholders (`translatable` refuses others, so a param of any type formats).
- A message whose words depend on a count has two more keys (`translatable_plural`):

      {"msgid": "<singular>", "plural": "<plural>", "count": "<name of the count param>",
       "params": {...}}

  and is rendered with `ngettext(msgid, plural, params[count])`: the reader's language picks
  its own form (Chinese has one, English two). `plural` follows the rules of `msgid`; the count
  param is a whole number (an int, not a bool), shown as it is like any number.
- A `"context": "<msgctxt>"` key tells apart two meanings of one English text (a lazy label
  marked with `pgettext_lazy`, e.g. a policy decision "allow"): rendered with `pgettext`, or
  `npgettext` for a plural message.
- A param value is one of: text or a number, shown as it is (party, node, column and dataset
  names, counts: nothing to translate); a nested message of the same form, rendered in the
  reader's language too (a component's label, a reason, a fixed description); or a list of
  those, joined with the reader's list separator.
- In a text column (`Run.message`, `NodeRun.message`, `NodeRun.public_message`, a refusal's
  gRPC details) the object is kept as its JSON text; in a JSON document (log lines, warnings,
  events, a party's report) as the object itself, under the key that held the text.
- Anything else (plain text) is a message stored before this format, or words no catalogue
  holds (an exception's own text, an older peer's refusal): it is shown as it is.

`render(stored)` turns any of these into text in the active language; callers activate the
reader's (a request's middleware, the websocket consumer per connection, a report per
downloader; `render(stored, language)` overrides it). It never raises: a param missing from
the object shows as `%(name)s`, one of an unknown type as its JSON, a translation that
breaks its placeholders falls back to the English text, a malformed object is shown as its
JSON text, and a msgid with any other format than `%(name)s` (a peer's message is not trusted
to be well made: a width could make text of any size) is shown as it is. A plural message is
held to the same rules: a `plural` that is not text or uses another format, or a `count` that
names no param or one that is not a whole number, makes it malformed (shown as its JSON text),
and so does a `context` that is not text.

Redaction is not decided here: params are what the writer put in a text meant for its
readers (`workflows.redaction` picks which stored message a reader gets; a party's data only
ever enters its own party's text).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext, npgettext, pgettext

MSGID = "msgid"
PARAMS = "params"
PLURAL = "plural"
COUNT = "count"
CONTEXT = "context"
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?([a-zA-Z%])")
PLAIN_FORMATS = re.compile(r"%%|%\(\w+\)s")
MAX_DEPTH = 8  # nested messages deeper than this are shown as JSON (no runaway recursion)


@dataclass(frozen=True)
class Message:
    """A message to render when read: `msgid` (English, marked for translation) and params;
    a plural message also has its `plural` form and the name of its `count` param
    (`translatable_plural`), a label marked with `pgettext_lazy` its `context`.

    `str(message)` renders it in the active language; `stored()` / `stored_text()` give the
    stored format (module docstring)."""

    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)
    plural: str | None = None
    count: str | None = None
    context: str | None = None

    def stored(self) -> dict:
        kept = {MSGID: self.msgid}
        if self.plural is not None:
            kept |= {PLURAL: self.plural, COUNT: self.count}
        if self.context is not None:
            kept[CONTEXT] = self.context
        return kept | {PARAMS: dict(self.params)}

    def stored_text(self) -> str:
        return json.dumps(self.stored(), ensure_ascii=False)

    def __str__(self) -> str:
        return render(self)


def translatable(msgid: str | Promise, **params: Any) -> Message:
    """A message to store now and render when read (`makemessages` extracts `msgid`: this
    name is one of its keywords). `params` as in the module docstring: a `Message` or a lazily
    translated text (`gettext_lazy`, e.g. a component's label; `pgettext_lazy` keeps its
    context) is rendered for the reader. `msgid` may itself be such a lazy text."""
    context = None
    if isinstance(msgid, Promise):
        context, msgid = _lazy_msgid(msgid) or (None, msgid)
    _check_format(msgid)
    converted = {name: _param(value) for name, value in params.items()}
    return Message(msgid, converted, context=context)


def translatable_plural(msgid: str, plural: str, count: str, /, **params: Any) -> Message:
    """A message whose words depend on the number in param `count` ("%(count)s column" /
    "%(count)s columns"), rendered with `ngettext` in the reader's language (`makemessages`
    extracts both forms: this name is one of its keywords, `translatable_plural:1,2`)."""
    _check_format(msgid)
    _check_format(plural)
    if not _whole_number(params.get(count)):
        raise ValueError(f"the count param {count!r} of a plural message is a whole number")
    converted = {name: _param(value) for name, value in params.items()}
    return Message(msgid, converted, plural=plural, count=count)


def _check_format(msgid: Any) -> None:
    """Refuse (at the writer) a msgid that is not text or has other formats than `%(name)s`."""
    if not isinstance(msgid, str):
        raise TypeError(f"a message's msgid is text, not {type(msgid).__name__}")
    conversions = {kind for _name, kind in PLACEHOLDER.findall(msgid)} - {"s", "%"}
    unnamed = [name for name, kind in PLACEHOLDER.findall(msgid) if not name and kind != "%"]
    if conversions or unnamed:
        raise ValueError(f"a stored message uses %(name)s placeholders only: {msgid!r}")


def _whole_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _param(value: Any) -> Any:
    """A param in its stored form (JSON-ready)."""
    if isinstance(value, Message):
        return value.stored()
    if isinstance(value, Promise):
        lazy = _lazy_msgid(value)
        if lazy is None:
            return str(value)
        return Message(lazy[1], context=lazy[0]).stored()
    if isinstance(value, dict):  # a message already in its stored form, else shown as JSON
        return parse(value)
    if isinstance(value, (list, tuple)):
        return [_param(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _lazy_msgid(value: Promise) -> tuple[str | None, str] | None:
    """(context, msgid) of a `gettext_lazy` or `pgettext_lazy` text (context None for the
    first), read through its pickling protocol; None for any other lazy object: it is then
    stored rendered, in the writer's language."""
    try:
        _unpickle, (func, args, kwargs, *_types) = value.__reduce__()
    except (TypeError, ValueError):
        return None
    if kwargs or not all(isinstance(arg, str) for arg in args):
        return None
    if func is gettext and len(args) == 1:
        return None, args[0]
    if func is pgettext and len(args) == 2:
        return args[0], args[1]
    return None


def said_by(error: BaseException) -> Message | str:
    """What an exception says, to store: its message when it carries one (a `Message` given as
    its only argument, or its `message` attribute: `CheckFailed`, `ParamError`), else its own
    text (words no catalogue holds: shown as they are)."""
    message = getattr(error, "message", None)
    if isinstance(message, Message):
        return message
    if len(error.args) == 1 and isinstance(error.args[0], Message):
        return error.args[0]
    return message if isinstance(message, str) else str(error)


Storable = Message | Promise | dict | str | None


def stored(message: Storable) -> dict | str:
    """What a JSON document keeps for `message` (a Message, a lazy text, a message already
    in its stored form, or plain text): the object, or the plain text as it is."""
    if isinstance(message, Promise):
        message = translatable(message)
    if isinstance(message, Message):
        return message.stored()
    return parse(message)


def stored_text(message: Storable) -> str:
    """What a text column keeps for `message`: the object's JSON text, or plain text."""
    kept = stored(message)
    return json.dumps(kept, ensure_ascii=False) if isinstance(kept, dict) else kept


def stored_within(message: Storable, limit: int) -> str:
    """`stored_text(message)` for a column of `limit` characters: the stored JSON when it
    fits, else the English words cut to the limit (still readable, no longer translated: a
    cut JSON text would not be a message any more)."""
    kept = stored_text(message)
    return kept if len(kept) <= limit else render(kept, "en")[:limit]


def wire_text(message: Storable, limit: int | None = None) -> str:
    """What goes over a link for `message` (a refusal's gRPC details, a reason in a body): the
    stored JSON in ASCII (header-safe), or plain text as it is; the receiving node reads it
    back with `parse`/`render` (plain text from an older peer is shown as it is). Beyond
    `limit` characters, the English words cut to it."""
    kept = stored(message)
    text = json.dumps(kept, ensure_ascii=True) if isinstance(kept, dict) else kept
    return text if limit is None or len(text) <= limit else render(kept, "en")[:limit]


def parse(value: Any) -> dict | str:
    """A stored message as the object (a dict with a text `msgid`) or as plain text."""
    if isinstance(value, Message):
        return value.stored()
    if isinstance(value, str):
        if not value.startswith('{"msgid"'):
            return value
        try:
            value = json.loads(value)
        except ValueError:
            return value if isinstance(value, str) else ""
    if isinstance(value, dict) and isinstance(value.get(MSGID), str):
        return value
    if value is None:
        return ""
    return value if isinstance(value, str) else _as_json(value)


def render(value: Any, language: str | None = None) -> str:
    """A stored message (any form the module docstring names) as text in `language`, by
    default the active one. Never raises (see the module docstring for the fallbacks)."""
    if language:
        with translation.override(language):
            return _render(parse(value), 0)
    return _render(parse(value), 0)


def _render(message: dict | str, depth: int) -> str:
    if isinstance(message, str):
        return message
    params = message.get(PARAMS)
    if not isinstance(params, dict) or depth > MAX_DEPTH:
        return _as_json(message)
    forms = _forms(message)
    if forms is None:  # malformed plural or context keys
        return _as_json(message)
    msgid, plural, number, context = forms
    if not all(_plain_placeholders(form) for form in (msgid, plural or "")):
        # Only `%(name)s` formats: a width (`%(x)999999999s`) from a peer's message must not
        # make text of any size. Such a msgid is shown as it is.
        return msgid
    shown = _Params({str(name): _render_param(value, depth) for name, value in params.items()})
    english = msgid if plural is None or number == 1 else plural
    translated = _translated(msgid, plural, number, context)
    for text in (translated, english) if _plain_placeholders(translated) else (english,):
        try:
            return text % shown
        except (TypeError, ValueError, KeyError):  # a translation that broke its placeholders
            continue
    return english


def _forms(message: dict) -> tuple[str, str | None, int | None, str | None] | None:
    """(msgid, plural, count, context) of a stored message (plural and count None for a
    singular one, context None without one), or None when it is malformed (module docstring)."""
    context = message.get(CONTEXT)
    if context is not None and not isinstance(context, str):
        return None
    if PLURAL not in message and COUNT not in message:
        return message[MSGID], None, None, context
    plural, count = message.get(PLURAL), message.get(COUNT)
    number = message[PARAMS].get(count) if isinstance(count, str) else None
    if not isinstance(plural, str) or not _whole_number(number):
        return None
    return message[MSGID], plural, number, context


def _translated(msgid: str, plural: str | None, number: int | None, context: str | None) -> str:
    if plural is None:
        return gettext(msgid) if context is None else pgettext(context, msgid)
    if context is None:
        return ngettext(msgid, plural, number)
    return npgettext(context, msgid, plural, number)


def _plain_placeholders(text: str) -> bool:
    """Whether every % in `text` starts `%(name)s` or `%%`."""
    return "%" not in PLAIN_FORMATS.sub("", text)


def _render_param(value: Any, depth: int) -> str:
    if isinstance(value, dict):
        nested = isinstance(value.get(MSGID), str)
        return _render(value, depth + 1) if nested else _as_json(value)
    if isinstance(value, list):
        separator = pgettext("list separator", ", ")
        return separator.join(_render_param(item, depth + 1) for item in value)
    return "" if value is None else str(value)


def _as_json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:
        return repr(value)


class _Params(dict):
    """Params for `%` formatting: a missing one shows as its own placeholder."""

    def __missing__(self, name: str) -> str:
        return f"%({name})s"
