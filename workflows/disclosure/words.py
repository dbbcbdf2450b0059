"""The disclosure plan in words, for the owner who approves it and for every page that shows it.

"bob receives: id-linked prediction scores over up to 4,800 rows (node predict), derived from
your columns income, age and label default_flag."
"""

from __future__ import annotations

from workflows.components.disclosure import Form

FORM_LABELS = {
    Form.NONE: "nothing",
    Form.AGGREGATE: "aggregate",
    Form.MODEL: "model",
    Form.IDS: "ids",
    Form.ROW_LEVEL: "row-level",
}
ROLE_NOUNS = {"id": "key", "label": "label", "feature": "column", "protected": "protected column"}


def _listing(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def columns_phrase(columns: list[dict], owner_view: bool = True) -> str:
    """'your columns income, age and label default_flag' (or 'alice's ...')."""
    groups: dict[str, list[str]] = {}
    for column in columns:
        groups.setdefault(column["role"], []).append(column["name"])
    parts = []
    for role in ("feature", "id", "label", "protected"):
        names = groups.get(role)
        if names:
            noun = ROLE_NOUNS[role] + ("s" if len(names) > 1 else "")
            parts.append(f"{noun} {', '.join(names)}")
    owner = "your" if owner_view else f"{columns[0]['party']}'s" if columns else ""
    return f"{owner} {_listing(parts)}".strip()


def scale(entry: dict) -> str:
    rows = entry.get("rows")
    size = f" over up to {rows:,} rows" if rows else ""
    if entry["form"] == Form.AGGREGATE and entry.get("k"):
        size += f" (groups of at least {entry['k']} rows)" if entry["k"] > 1 else " (single rows)"
    return size


def sentence(entry: dict, owner_view: bool = True) -> str:
    """One entry of the plan (a dict from `Entry.to_dict`) as a sentence."""
    return (
        f"{entry['recipient']} receives: {entry['what']}{scale(entry)} "
        f"[{FORM_LABELS[Form(entry['form'])]}, node {entry['node']}], derived from "
        f"{columns_phrase(entry['columns'], owner_view)}."
    )


def for_owner(entries: list[dict]) -> list[str]:
    return [sentence(entry) for entry in entries]


def decision_phrase(entry: dict) -> str:
    return {
        "allow": "allowed by the standing policy",
        "ask": "needs the owner's approval",
        "refuse": "refused by the standing policy",
    }.get(entry.get("decision", "ask"), "")
