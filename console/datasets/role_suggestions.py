"""Column roles suggested from a dataset's profile, and warnings about a choice of roles (pure:
no Django, no ORM).

Suggestions, which the owner confirms on the authorisation form (they are pre-filled there,
never applied without the owner submitting them):

- ID: a column named `id` or `*_id` (any case) whose values are all present and all different.
  Uniqueness is checked over the whole file, streaming only the candidate columns, with a 64-bit
  hash per value (8 bytes a row; a hash collision can only hide a suggestion, never make one).
- Label: a column named like a target (a word of its name among `TARGET_WORDS`: `label`,
  `default_flag`, `churn`, `y`, ...) whose values are all present and all 0 or 1 (int, bool, or
  float 0.0/1.0). At most one label is suggested: the first such column in file order.
- Everything else: feature. Protected is never suggested: only the owner knows what is secret.

Warnings (`role_warnings`): no ID column (the dataset cannot be joined with the other parties'
rows by PSI) or no label column (it cannot supply the training target: fine when another party
holds the label). They are warnings, not errors: the owner may still authorise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ID_NAME = re.compile(r"(?:.*_)?id", re.IGNORECASE)
TARGET_WORDS = frozenset(
    {
        "label",
        "target",
        "default",
        "defaulted",
        "churn",
        "churned",
        "flag",
        "y",
        "class",
        "outcome",
        "response",
        "fraud",
        "bad",
        "converted",
    }
)
BINARY_TYPES = frozenset({"int", "float", "bool"})
CHUNK_ROWS = 200_000


@dataclass(frozen=True)
class ColumnFacts:
    """What the file says about one candidate column: all values present, all different, and
    the distinct values when there are at most two of them (else None)."""

    complete: bool
    unique: bool
    few_values: frozenset | None


@dataclass(frozen=True)
class Suggestion:
    role: str
    reason: str

    def to_dict(self) -> dict:
        return {"role": self.role, "reason": self.reason}


def looks_like_id(name: str) -> bool:
    return ID_NAME.fullmatch(name.strip()) is not None


def looks_like_target(name: str) -> bool:
    words = re.split(r"[^0-9a-z]+", name.strip().lower())
    return any(word in TARGET_WORDS for word in words)


def candidates(columns: Iterable[dict]) -> list[str]:
    """Columns worth reading: named like an ID, or named like a target with a 0/1-able type."""
    return [
        column["name"]
        for column in columns
        if looks_like_id(column["name"])
        or (looks_like_target(column["name"]) and column["type"] in BINARY_TYPES)
    ]


def scan_facts(path: Path, names: list[str], read_options: dict) -> dict[str, ColumnFacts]:
    """Facts about columns `names` of the CSV at `path`, read in chunks with `read_options`
    (the options the dataset was profiled with). Raises OSError / ValueError when the file
    cannot be read as profiled."""
    if not names:
        return {}
    hashes: dict[str, list[np.ndarray]] = {name: [] for name in names}
    values: dict[str, set | None] = {name: set() for name in names}
    nulls = dict.fromkeys(names, 0)
    reader = pd.read_csv(path, usecols=names, chunksize=CHUNK_ROWS, **read_options)
    with reader:
        for chunk in reader:
            for name in names:
                series = chunk[name]
                nulls[name] += int(series.isna().sum())
                present = series.dropna()
                hashes[name].append(pd.util.hash_pandas_object(present, index=False).to_numpy())
                if values[name] is not None:
                    values[name] |= set(present.unique().tolist())
                    if len(values[name]) > 2:
                        values[name] = None
    facts = {}
    for name in names:
        every = np.concatenate(hashes[name]) if hashes[name] else np.empty(0, np.uint64)
        unique = len(np.unique(every)) == len(every)
        few = frozenset(values[name]) if values[name] is not None else None
        facts[name] = ColumnFacts(complete=nulls[name] == 0, unique=unique, few_values=few)
    return facts


def _is_binary(facts: ColumnFacts) -> bool:
    if not facts.complete or facts.few_values is None or not facts.few_values:
        return False
    return all(value in (0, 1) for value in facts.few_values)  # True == 1, 1.0 == 1


def suggest_roles(columns: list[dict], facts: dict[str, ColumnFacts]) -> dict[str, Suggestion]:
    """A suggested role, with its reason, for every column (in file order)."""
    suggestions, label_taken = {}, False
    for column in columns:
        name, known = column["name"], facts.get(column["name"])
        if looks_like_id(name) and known and known.complete and known.unique:
            suggestions[name] = Suggestion("id", "named like an ID and every value is unique")
        elif (
            not label_taken
            and looks_like_target(name)
            and column["type"] in BINARY_TYPES
            and known
            and _is_binary(known)
        ):
            label_taken = True
            suggestions[name] = Suggestion("label", "named like a target and every value is 0/1")
        else:
            suggestions[name] = Suggestion("feature", "")
    return suggestions


@dataclass(frozen=True)
class RoleWarning:
    code: str
    message: str

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


def role_warnings(column_roles: dict[str, str]) -> list[RoleWarning]:
    """What a pipeline will miss with these roles (empty when nothing)."""
    roles = set(column_roles.values())
    warnings = []
    if "id" not in roles:
        warnings.append(
            RoleWarning(
                "no_id_column",
                "No column has the role ID / key: PSI cannot join this dataset's rows with the "
                "other parties' datasets, so joint pipelines cannot use it.",
            )
        )
    if "label" not in roles:
        warnings.append(
            RoleWarning(
                "no_label",
                "No column has the role Label: this dataset cannot supply a training target. "
                "That is fine when another party's dataset holds the label.",
            )
        )
    return warnings
