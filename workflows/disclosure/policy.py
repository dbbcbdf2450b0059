"""Standing policies: what a data owner allows, refuses or wants to be asked about.

A policy belongs to one authorisation (a dataset in a project) and answers, for each form of
disclosure to *other* parties, `allow` (no approval needed), `ask` (the owner approves each
plan) or `refuse` (validation refuses the pipeline outright):

- `ids`: PSI membership (which keys of the other parties are in the intersection);
- `aggregates`, with `aggregates_min_k`: statistics over groups of at least k rows (an aggregate
  over smaller groups is asked about even when aggregates are allowed);
- `models`: model parameters trained on the columns (secret shares, manifests, weights);
- `row_level`: one value per row (rows, predictions, full curves); `row_level_to` limits an
  "allow" to the parties listed (e.g. predictions from my features only to the label holder);
- `label_results`: row-level results derived from the owner's *label* (predictions, curves):
  "refuse" reads "label usable for training, only I receive predictions and curves".

Protected columns are refused in every form, whatever the policy: they may only feed secure
computation. When a disclosure derives from several datasets of one owner, the strictest of
their policies decides.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from django.utils.translation import gettext_lazy, pgettext_lazy

from workflows.components.disclosure import Form
from workflows.messages import Message, translatable

ALLOW, ASK, REFUSE = "allow", "ask", "refuse"
CHOICES = (ALLOW, ASK, REFUSE)
STRICTNESS = {ALLOW: 0, ASK: 1, REFUSE: 2}
FORM_WORDS = {
    Form.IDS: gettext_lazy("intersection membership of its keys"),
    Form.AGGREGATE: gettext_lazy("aggregates of its columns"),
    Form.MODEL: gettext_lazy("models trained on its columns"),
    Form.ROW_LEVEL: gettext_lazy("row-level data derived from its columns"),
}
DECISION_WORDS = {
    ALLOW: pgettext_lazy("policy decision", "allow"),
    ASK: pgettext_lazy("policy decision", "ask"),
    REFUSE: pgettext_lazy("policy decision", "refuse"),
}


@dataclass(frozen=True)
class Policy:
    ids: str = ASK
    aggregates: str = ASK
    aggregates_min_k: int = 20
    models: str = ASK
    row_level: str = ASK
    row_level_to: tuple[str, ...] = ()
    label_results: str = ASK

    @classmethod
    def from_dict(cls, data: dict | None) -> Policy:
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in (data or {}).items() if key in known}
        if "row_level_to" in values:
            values["row_level_to"] = tuple(values["row_level_to"])
        return cls(**values)

    def to_dict(self) -> dict:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return values | {"row_level_to": list(self.row_level_to)}

    def decide(self, entry) -> tuple[str, Message]:
        """(allow | ask | refuse, the reason: a message read in each reader's language) for
        one plan entry from this owner."""
        owner = entry.source
        if any(column.role == "protected" for column in entry.columns):
            return REFUSE, translatable(
                "%(owner)s's protected columns may only feed secure computation", owner=owner
            )
        if entry.form == Form.AGGREGATE:
            return self._aggregate(entry)
        rule = {Form.IDS: self.ids, Form.MODEL: self.models, Form.ROW_LEVEL: self.row_level}
        decision = rule.get(entry.form, ALLOW)
        reason = translatable(
            "%(owner)s's standing policy: %(what)s to others: %(decision)s",
            owner=owner,
            what=FORM_WORDS[entry.form],
            decision=_decision_words(decision),
        )
        if entry.form == Form.ROW_LEVEL and decision == REFUSE:
            reason = translatable(
                "%(owner)s's standing policy: its columns never leave as row-level data",
                owner=owner,
            )
        limited = entry.form == Form.ROW_LEVEL and decision == ALLOW and self.row_level_to
        if limited and entry.recipient not in self.row_level_to:
            decision = ASK
            reason = translatable(
                "%(owner)s's standing policy allows row-level data only to %(parties)s",
                owner=owner,
                parties=list(self.row_level_to),
            )
        from_label = any(column.role == "label" for column in entry.columns)
        stricter = STRICTNESS[self.label_results] > STRICTNESS[decision]
        if entry.form == Form.ROW_LEVEL and from_label and stricter:
            decision = self.label_results
            reason = translatable(
                "%(owner)s's standing policy: label usable for training, only %(owner)s "
                "receives predictions and curves derived from it"
                if decision == REFUSE
                else "%(owner)s's standing policy asks about results derived from its label",
                owner=owner,
            )
        return decision, reason

    def _aggregate(self, entry) -> tuple[str, Message]:
        owner, k = entry.source, entry.k
        if self.aggregates == ALLOW and k is not None and k < self.aggregates_min_k:
            return ASK, translatable(
                "%(owner)s's standing policy allows aggregates over groups of at least "
                "%(min_k)s rows; this one has groups of %(k)s",
                owner=owner,
                min_k=self.aggregates_min_k,
                k=k,
            )
        return (
            self.aggregates,
            translatable(
                "%(owner)s's standing policy: aggregates to others: %(decision)s",
                owner=owner,
                decision=_decision_words(self.aggregates),
            ),
        )


def _decision_words(decision: str):
    return DECISION_WORDS.get(decision, decision)


def strictest(decisions: list[tuple[str, Message | str]]) -> tuple[str, Message | str]:
    return max(decisions, key=lambda pair: STRICTNESS[pair[0]], default=(ALLOW, ""))


def decide_entries(plan, sources: dict) -> None:
    """Set each entry's decision from the policies of the datasets its columns come from."""
    for entry in plan.entries:
        datasets = {column.dataset_id for column in entry.columns}
        policies = [
            Policy.from_dict(getattr(sources.get(dataset_id), "policy", None))
            for dataset_id in datasets
        ]
        entry.decision, entry.reason = strictest([p.decide(entry) for p in policies])
