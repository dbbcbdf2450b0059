"""Node errors as each party may see them: in full at the failing party, redacted elsewhere.

An error raised while a party's code reads or computes on its own data (`RunContext.at`,
`secure.at_party`, the engine's party programs: all raise `PartyFailure(party, error)`) may
quote that data: a duplicate PSI key, a cell pandas could not parse, a line of the file. Its
text is therefore the failing party's alone. Every other party sees the error class, the node,
the party and a fixed description of the class: never the exception's own text.

A component's explained refusal (`CheckFailed`: what is wrong and how to fix it, naming columns
and parties, never values, by its contract) is shown to everyone as it is, without its class;
one raised at a party with its own `public` text (it counts that party's rows) shows the
failing party the message and everyone else that text.

An error raised outside any party (the component's own thread, which by the library's contract
handles only public facts: parameters, schemas, row counts; or the executor's own checks) names
no party and is shown to everyone as it is.

`NodeRun.message` keeps the full text, `NodeRun.public_message` the redacted one;
`message_for(node, viewer)` picks the right one for a viewer party. Every place that shows a
node's message (API, websocket, run page, HTML report) goes through it.

Warnings (`RunContext.warn(message, party=...)`) follow the same rule: one about a party's data
("features not scaled at alice: income, age go beyond ±10") names that party's columns and
tells something of their values, so its text is that party's alone; every other party reads
`warning_public(party)`, which names the party and nothing of its data. A warning about no
party's data (`party=None`) is shown to everyone as it is. `NodeRun.warnings` keeps the full
text with its party; `warning_for(warning, viewer)` gives a viewer's view of one.
`sees_details(viewer, party)` is the one rule behind both: only `party`'s own users (its node,
in a network run) read what a party's code said about its data.

A fixed-point range failure caused by a party's data (its inputs too large for any precision,
or a value computed from its inputs alone leaving the encoding's range: see
`workflows.components.secure`) is that party's own failure, raised as `PartyFailure(party,
CheckFailed(full, public=range_public(party, what)))`: its users read which columns, the
bound and the fix; everyone else reads `range_public`, which names the party and nothing of
its columns, values or bounds. In a network run the other parties' processes never hold the
full text (the columns' verdicts stay at their party), so they record the public one as theirs.

Both texts are stored as messages rendered in each reader's language (`workflows.messages`):
redaction picks which stored message a reader gets (`stored_for`), rendering only puts it into
words. A public text's params are the error class, node, party, the operation and a fixed
description: no value of a party's data can ride into another party's view through them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy

from workflows.components.checks import CheckFailed
from workflows.messages import Message, render, said_by, translatable

# Fixed texts per error class: what went wrong, in words that carry no data value.
DESCRIPTIONS = {
    "DuplicateKeyError": gettext_lazy("a key appears on more than one row of this party's input"),
    "EmptyIntersectionError": gettext_lazy("the parties' keys have no value in common"),
    "ParserError": gettext_lazy("this party's file could not be read as CSV"),
    "EmptyDataError": gettext_lazy("this party's file holds no data"),
    "UnicodeDecodeError": gettext_lazy("this party's file is not in its declared text encoding"),
    "ValueError": gettext_lazy("a value in this party's data is not valid for this component"),
    "TypeError": gettext_lazy("a column of this party holds values of the wrong type"),
    "KeyError": gettext_lazy("a column or key this component needs is missing at this party"),
    "LookupError": gettext_lazy("something this component needs is missing at this party"),
    "FileNotFoundError": gettext_lazy("a file of this party could not be found"),
    "OSError": gettext_lazy("a file of this party could not be read or written"),
    "PermissionError": gettext_lazy("this party refused the operation"),
    "EncodingError": gettext_lazy(
        "a value of this party is outside the secure computation's range"
    ),
    "ShapeError": gettext_lazy("this party's data does not have the expected shape"),
    "LinkError": gettext_lazy("the connection to this party failed"),
    "ZeroDivisionError": gettext_lazy("a computation on this party's data divided by zero"),
}
GENERIC = gettext_lazy("the computation on this party's data failed")


@dataclass(frozen=True)
class NodeError:
    """A node's failure: `full` for the failing party, `public` for everyone else (each a
    message to store, `workflows.messages`, or plain text: an exception's own words)."""

    error_class: str
    party: str
    full: Message | str
    public: Message | str


def describe(error: BaseException, node_id: str, party: str = "") -> NodeError:
    """The two views of `error`, raised in node `node_id` at `party` ("" when at no party)."""
    name = type(error).__name__
    if isinstance(error, CheckFailed):
        return NodeError(name, party, error.message, error.public if party else error.message)
    said = said_by(error)
    full = (
        translatable("%(error)s: %(message)s", error=name, message=said)
        if isinstance(said, Message)
        else f"{name}: {error}"
    )
    if not party:
        return NodeError(name, "", full, full)
    public = translatable(
        "%(error)s at party %(party)s in node %(node)s: %(description)s. The details are shown "
        "to %(party)s's users only.",
        error=name,
        party=party,
        node=node_id,
        description=_description(type(error)),
    )
    return NodeError(name, party, full, public)


def _description(kind: type):
    for cls in kind.__mro__:
        if cls.__name__ in DESCRIPTIONS:
            return DESCRIPTIONS[cls.__name__]
    return GENERIC


def sees_details(viewer: str | None, party: str | None) -> bool:
    """Whether users of party `viewer` read the full text of a message about `party`'s data
    (a message about no party's data is public: everyone reads it)."""
    return not party or viewer == party


def stored_for(node, viewer: str | None) -> str:
    """The stored message of `node` (a NodeRun) that users of party `viewer` may read."""
    # A message at no party has one text (`describe`); rows older than `public_message` rely
    # on reading it rather than `message` then.
    own = node.party and sees_details(viewer, node.party)
    return node.message if own else node.public_message


def message_for(node, viewer: str | None) -> str:
    """The message of `node` as users of party `viewer` may read it, in the active language."""
    return render(stored_for(node, viewer))


def warning_public(party: str) -> Message:
    """What parties other than `party` read of a warning about `party`'s data."""
    return translatable(
        "a warning at %(party)s about its own data: only %(party)s's users see its details and fix",
        party=party,
    )


def range_public(party: str, what, *, computed: bool = False) -> Message:
    """What parties other than `party` read of a range failure of `what` (a label such as
    `gettext_lazy("SS-LR training")`, or a message) on `party`'s data: its inputs (`computed`
    False) or a value computed from its inputs alone (True) do not fit the fixed-point
    encoding. Its params are the party and the label: nothing of the party's data."""
    if computed:
        return translatable(
            "%(what)s: a value computed from %(party)s's data is outside the range "
            "the fixed-point encoding can hold; only %(party)s's users see which columns and "
            "how to fix it.",
            what=what,
            party=party,
        )
    return translatable(
        "%(what)s: a value of %(party)s's data is outside the range the "
        "fixed-point encoding can hold; only %(party)s's users see which column and how "
        "to fix it.",
        what=what,
        party=party,
    )


def warning_for(warning: dict, viewer: str | None, rendered: bool = True) -> dict:
    """A stored warning ({"time", "message", "party"}) as users of party `viewer` may read it,
    its message rendered in the active language (`rendered=False`: kept in its stored form,
    for events and log lines); `redacted` marks the public text of another party's warning."""
    party = warning.get("party") or ""
    if sees_details(viewer, party):
        shown = warning | {"party": party, "redacted": False}
    else:
        public = warning_public(party).stored()
        shown = warning | {"message": public, "party": party, "redacted": True}
    return shown | {"message": render(shown["message"])} if rendered else shown


def viewer_party(user) -> str | None:
    """The party (node name) a user acts for, or None (platform admins without a node)."""
    node = getattr(user, "node", None) if getattr(user, "node_id", None) else None
    return node.name if node is not None else None
