"""What flows along pipeline edges, described before anything runs.

- `Column`: a column of a table with its type, the party that holds it, its role and whether it
  may hold missing values.
- `ArtifactInfo`: the description of one output port: its kind (`PortType`), the parties that
  hold a share of it, and for tables their columns. Components compute these from their inputs'
  infos (schema propagation), so column pickers and validation know what exists upstream.

Tables: an *individual* table is one party's table file; a *vertical* table is one file per
party with that party's columns, rows aligned by position across parties (Arrow IPC files with
this schema in their metadata, `workflows.tabular.files`). Column names are unique within a
party; the same name may appear at several parties (join keys kept by each side).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from workflows.messages import Message, translatable


class PortType(StrEnum):
    INDIVIDUAL = "table.individual"
    VERTICAL = "table.vertical"
    MODEL = "model"
    REPORT = "report"
    RULE = "rule"

    @property
    def is_table(self) -> bool:
        return self in (PortType.INDIVIDUAL, PortType.VERTICAL)

    @property
    def label(self) -> str:
        """The name people read in messages and the UI ("vertical table", not "table.vertical")."""
        return str(PORT_TYPE_LABELS[self])


PORT_TYPE_LABELS = {
    PortType.INDIVIDUAL: _("table"),
    PortType.VERTICAL: _("vertical table"),
    PortType.MODEL: _("model"),
    PortType.REPORT: _("report"),
    PortType.RULE: _("rule"),
}


def type_names(kinds) -> Message | str:
    """Port types for a message: "table or vertical table" in the reader's language."""
    return alternatives([PORT_TYPE_LABELS[PortType(kind)] for kind in kinds])


def alternatives(items) -> Message | str:
    """'a, b or c' in the reader's language (items: names, lazy labels or messages)."""
    items = list(items)
    if len(items) < 2:
        return items[0] if items else ""
    return translatable("%(first)s or %(last)s", first=items[:-1], last=items[-1])


TABLES = (PortType.INDIVIDUAL, PortType.VERTICAL)
COLUMN_TYPES = ("int", "float", "str", "bool")
NUMERIC_TYPES = frozenset({"int", "float"})
ROLES = ("id", "feature", "label", "protected")


@dataclass(frozen=True)
class Column:
    """`missing`: the column may hold missing values (the dataset's upload profile counted
    some, and no fill step has run since); validation refuses it where a component cannot
    take gaps. Components keep it with `dataclasses.replace` when they change a column."""

    name: str
    type: str
    party: str
    role: str
    missing: bool = False

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "type": self.type,
            "party": self.party,
            "role": self.role,
            "missing": self.missing,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Column:
        return cls(
            data["name"], data["type"], data["party"], data["role"], data.get("missing", False)
        )


@dataclass(frozen=True)
class ArtifactInfo:
    kind: PortType
    parties: tuple[str, ...]
    columns: tuple[Column, ...] = field(default=())

    @classmethod
    def table(cls, columns: list[Column] | tuple[Column, ...]) -> ArtifactInfo:
        """A table over `columns`: individual when one party holds them all, else vertical."""
        parties = tuple(dict.fromkeys(column.party for column in columns))
        kind = PortType.INDIVIDUAL if len(parties) == 1 else PortType.VERTICAL
        return cls(kind, parties, tuple(columns))

    def columns_at(self, party: str) -> list[Column]:
        return [column for column in self.columns if column.party == party]

    def find(self, name: str) -> list[Column]:
        return [column for column in self.columns if column.name == name]

    def names(self) -> set[str]:
        return {column.name for column in self.columns}

    def to_dict(self) -> dict:
        return {
            "kind": str(self.kind),
            "parties": list(self.parties),
            "columns": [column.to_dict() for column in self.columns],
        }

    @classmethod
    def from_dict(cls, data: dict) -> ArtifactInfo:
        columns = tuple(Column.from_dict(column) for column in data.get("columns", []))
        return cls(PortType(data["kind"]), tuple(data["parties"]), columns)
