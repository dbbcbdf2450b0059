"""What a component's outputs disclose, and to whom: the vocabulary of its declaration.

Every output port of a component declares (`Declares`):

- `parts`: each party holding a part of the output receives that part at row level (tables
  split by party, rules kept at each party). Whether that discloses anything depends on the
  part's *lineage*: a party's own columns disclose nothing; a prediction column held by bob but
  computed from alice's features discloses alice's data to bob, row by row;
- `flows(ctx)`: further disclosures (`Flow`): recipients, a form and the input columns the
  disclosed information derives from, e.g. a report sent to every party, or the intersection
  membership PSI reveals about the other parties' keys;
- `lineage(ctx)` (tables and models): what each output column derives from; by default a
  column derives from the input column of the same party and name (columns passed through).

Forms, from least to most revealing about the source columns: `none`, `aggregate` (statistics
over groups of at least `k` rows; `k=None`: over the whole table), `model` (trained parameters,
held as secret shares or revealed), `ids` (which keys are in a set: PSI membership), and
`row_level` (one value per row: rows, predictions, full curves whose points are single rows).

A component also names its *shaping* parameters (`disclose(shaping=...)`): those that choose
which rows or cut points what it outputs covers, such as a split's seed and sizes or an
evaluation's threshold. They change no entry of the plan, yet a party who can change them and
run again learns what one run does not show (two sums over row sets that differ by one row give
that row's value; two confusion matrices at neighbouring thresholds give the labels of the rows
between them). So the plan's fingerprint includes their values: an owner's approval covers the
rows and cut points she saw, and a re-run that cuts the data elsewhere asks again.

The pipeline's disclosure plan (`workflows.disclosure.plan`) resolves every declared input
column to the source datasets' columns through the graph and keeps what reaches a party other
than the source's owner. The registry refuses a component whose outputs are not all declared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_noop

from workflows.components.schema import ArtifactInfo


class Form(StrEnum):
    NONE = "none"
    AGGREGATE = "aggregate"
    MODEL = "model"
    IDS = "ids"
    ROW_LEVEL = "row_level"

    @property
    def severity(self) -> int:
        return list(Form).index(self)


# A source component's refs name the dataset it reads rather than an input port.
DATASET = "@dataset"


@dataclass(frozen=True, order=True)
class Ref:
    """An input column that disclosed information derives from."""

    port: str
    party: str
    name: str


@dataclass(frozen=True)
class Flow:
    """`form` information about the columns `refs` goes to `recipients` (described as `what`).

    `during_run`: the protocol opens it to the recipients while the node runs (not in a file of
    the port: e.g. input bounds), so the ledger records it for every recipient taking part."""

    recipients: tuple[str, ...]
    form: Form
    refs: tuple[Ref, ...]
    what: str
    k: int | None = None
    during_run: bool = False


@dataclass(frozen=True)
class DisclosureContext:
    """What a declaration reasons about: cleaned parameters, input and output infos, the
    project's parties and the minimum group size `min_group` (k) of aggregates to non-owners."""

    params: dict[str, Any]
    inputs: dict[str, ArtifactInfo | None]
    outputs: dict[str, ArtifactInfo]
    parties: tuple[str, ...]
    min_group: int

    def refs(self, port: str, names: Iterable[str] | None = None) -> tuple[Ref, ...]:
        """Columns of input `port` (all, or those named), as refs."""
        info = self.inputs.get(port)
        if info is None:
            return ()
        wanted = None if names is None else set(names)
        return tuple(
            Ref(port, c.party, c.name) for c in info.columns if wanted is None or c.name in wanted
        )


Lineage = Callable[[DisclosureContext], dict[tuple[str, str], tuple[Ref, ...]]]


def _no_flows(ctx: DisclosureContext) -> list[Flow]:
    return []


@dataclass(frozen=True)
class Declares:
    """The declaration of one output port (see the module docstring)."""

    flows: Callable[[DisclosureContext], Iterable[Flow]] = _no_flows
    parts: bool = False
    parts_form: Form = Form.ROW_LEVEL
    parts_what: str | Callable[[DisclosureContext], str] = gettext_noop("rows")
    lineage: Lineage | None = None


@dataclass(frozen=True)
class Disclosure:
    """A component's declarations, one per output port, and its shaping parameters (see the
    module docstring)."""

    ports: tuple[tuple[str, Declares], ...] = field(default=())
    shaping: tuple[str, ...] = ()

    def get(self, port: str) -> Declares | None:
        return dict(self.ports).get(port)

    def names(self) -> set[str]:
        return {name for name, _ in self.ports}


def disclose(*, shaping: tuple[str, ...] = (), **ports: Declares) -> Disclosure:
    return Disclosure(tuple(ports.items()), tuple(shaping))


class UndeclaredDisclosure(ValueError):
    """A component does not declare what each of its outputs discloses."""


def check_declared(component) -> None:
    """Raise UndeclaredDisclosure unless every output port (and only those) is declared."""
    declared = component.disclosure
    if not isinstance(declared, Disclosure):
        raise UndeclaredDisclosure(
            f"component {component.key} declares no disclosure: every output port must state "
            "its recipients and what it carries about each source party's columns"
        )
    unknown_params = set(declared.shaping) - {param.name for param in component.params}
    if unknown_params:
        raise UndeclaredDisclosure(
            f"component {component.key}: shaping parameters {sorted(unknown_params)} are not "
            "parameters of the component"
        )
    outputs = {port.name for port in component.outputs}
    missing, unknown = outputs - declared.names(), declared.names() - outputs
    if missing or unknown:
        raise UndeclaredDisclosure(
            f"component {component.key}: disclosure undeclared for {sorted(missing)}"
            f"{f', declared for unknown ports {sorted(unknown)}' if unknown else ''}"
        )


# Declarations shared by many components.

KEPT_BY_HOLDERS = Declares(parts=True)


def to_every_party(form: Form, what: str, refs, k: int | None = None):
    """A report every project party receives: `refs(ctx)` -> the columns it derives from."""

    def flows(ctx: DisclosureContext) -> list[Flow]:
        return [Flow(ctx.parties, form, tuple(refs(ctx)), what, k)]

    return flows


def input_bounds(parties, refs, what: str) -> Flow:
    """What each party discloses about its own input columns `refs` to every other party of
    a secure computation before it starts (`workflows.components.secure.PartyBounds`): a
    power-of-two bound of their largest |x|, the row count (and, for features, whether some
    column is unscaled), from which the parties plan one precision. A statistic of the whole
    input (`k=None`), so a standing policy allowing aggregates allows it. Opened while the
    node runs (`during_run`): every party taking part has it in its ledger, file or not."""
    return Flow(tuple(parties), Form.AGGREGATE, tuple(refs), what, during_run=True)


def to_owner_in_full_else_aggregated(owner, refs, full: str, aggregated: str):
    """A report whose full form (row-level points) goes only to `owner(ctx)` and whose
    k-aggregated form (headline figures, groups of at least k rows) to every other party."""

    def flows(ctx: DisclosureContext) -> list[Flow]:
        party, used = owner(ctx), tuple(refs(ctx))
        others = tuple(p for p in ctx.parties if p != party)
        return [
            Flow((party,), Form.ROW_LEVEL, used, full),
            Flow(others, Form.AGGREGATE, used, aggregated, ctx.min_group),
        ]

    return flows
