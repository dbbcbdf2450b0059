"""The disclosure plan in words, for the owner who approves it and for every page that shows it.

"bob receives: id-linked prediction scores over up to 4,800 rows (node predict), derived from
your columns income, age and label default_flag."
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from workflows.components.disclosure import Form

FORM_LABELS = {
    Form.NONE: pgettext_lazy("disclosure form", "nothing"),
    Form.AGGREGATE: pgettext_lazy("disclosure form", "aggregate"),
    Form.MODEL: pgettext_lazy("disclosure form", "model"),
    Form.IDS: pgettext_lazy("disclosure form", "ids"),
    Form.ROW_LEVEL: pgettext_lazy("disclosure form", "row-level"),
}
# (one, several) per column role.
ROLE_NOUNS = {
    "id": (gettext_lazy("key"), gettext_lazy("keys")),
    "label": (gettext_lazy("label"), gettext_lazy("labels")),
    "feature": (gettext_lazy("column"), gettext_lazy("columns")),
    "protected": (gettext_lazy("protected column"), gettext_lazy("protected columns")),
}


def form_label(form: str) -> str:
    """A disclosure form ("row_level") as readers name it, in the active language."""
    try:
        return str(FORM_LABELS[Form(form)])
    except ValueError:
        return form


def _listing(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return _("%(first)s and %(last)s") % {"first": ", ".join(names[:-1]), "last": names[-1]}


def columns_phrase(columns: list[dict], owner_view: bool = True) -> str:
    """'your columns income, age and label default_flag' (or 'alice's ...')."""
    groups: dict[str, list[str]] = {}
    for column in columns:
        groups.setdefault(column["role"], []).append(column["name"])
    parts = []
    for role in ("feature", "id", "label", "protected"):
        names = groups.get(role)
        if names:
            noun = ROLE_NOUNS[role][len(names) > 1]
            parts.append(f"{noun} {', '.join(names)}")
    if owner_view:
        return _("your %(columns)s") % {"columns": _listing(parts)}
    if not columns:
        return _listing(parts)
    return _("%(party)s's %(columns)s") % {"party": columns[0]["party"], "columns": _listing(parts)}


def scale(entry: dict) -> str:
    rows = entry.get("rows")
    size = _(" over up to %(rows)s rows") % {"rows": f"{rows:,}"} if rows else ""
    if entry["form"] == Form.AGGREGATE and entry.get("k"):
        if entry["k"] > 1:
            size += _(" (groups of at least %(k)s rows)") % {"k": entry["k"]}
        else:
            size += _(" (single rows)")
    return size


def sentence(entry: dict, owner_view: bool = True) -> str:
    """One entry of the plan (a dict from `Entry.to_dict`) as a sentence."""
    return _(
        "%(recipient)s receives: %(what)s%(scale)s [%(form)s, node %(node)s], derived from "
        "%(columns)s."
    ) % {
        "recipient": entry["recipient"],
        "what": _(entry["what"]),  # declared in English (part of the plan's fingerprint)
        "scale": scale(entry),
        "form": FORM_LABELS[Form(entry["form"])],
        "node": entry["node"],
        "columns": columns_phrase(entry["columns"], owner_view),
    }


def for_owner(entries: list[dict]) -> list[str]:
    return [sentence(entry) for entry in entries]


def decision_phrase(entry: dict) -> str:
    return {
        "allow": _("allowed by the standing policy"),
        "ask": _("needs the owner's approval"),
        "refuse": _("refused by the standing policy"),
    }.get(entry.get("decision", "ask"), "")
