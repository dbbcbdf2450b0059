"""Pipeline templates: the graphs a new pipeline can start from.

- `blank`: an empty canvas.
- `joint_audience`: each party's dataset -> PSI on the parties' id columns -> table statistics
  of the joint audience (its size and column summaries; no row leaves its owner).
- `credit_risk`: datasets -> PSI -> train/test split -> fill missing values (each half) ->
  standard scaling (fitted on train, its rule applied to test) -> SS-LR training -> prediction
  for the label holder -> binary classification evaluation.

Templates are filled from what the project's authorisations say, for every party, so that a
project whose parties have authorised their datasets gets a pipeline that validates and runs
as it is:

- Dataset: each party's one authorised dataset. A party with several takes the one the
  template can use best: one with an ID column, then (for templates with a label) one with a
  label, then the most recently authorised (`ConsolePort.sources` lists newest first).
- PSI keys: the dataset's ID column; with several, the name the other parties' datasets share
  (customer_id joins customer_id), else the first.
- Features: every column with role `feature` and a type the model takes (int, float, bool), of
  every party. All of them are filled (each half of the split with its own statistics) and the
  numeric ones scaled: fixed-point secure computation needs features of similar magnitude, and
  one party's raw incomes among others' z-scores both overflow and ruin the fit. Text columns
  with role `feature` are left out (SS-LR takes numbers; encode them first).
- Label: the one column with role `label`; when several parties hold one, the first party's
  in the project's membership order. Its owner receives the predictions and evaluates them.
- Training settings: `TRAINING`, the settings the demo pipeline uses too.

What cannot be decided from the authorisations (a party without any authorised dataset, a
dataset without an ID column, a project without a label) is left empty, so the canvas draws
that node as "needs configuration" and validation names the missing setting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from workflows.components.schema import NUMERIC_TYPES
from workflows.graph import Edge, Graph, Node
from workflows.ports import SourceTable

VERSION = "1.0.0"
PSI_MAX_PARTIES = 3
COLUMN_WIDTH, ROW_HEIGHT, MARGIN = 240, 110, 40
MODEL_TYPES = (*sorted(NUMERIC_TYPES), "bool")  # what SS-LR takes
# SS-LR settings of the templates and of the demo pipeline: a full-precision sigmoid, and a
# learning rate and batch size that converge in ten epochs on standardised features.
TRAINING = {"epochs": 5, "learning_rate": 0.5, "batch_size": 1024, "sig_type": "real"}


@dataclass(frozen=True)
class Starter:
    key: str
    label: str
    description: str
    build: Callable[[Sequence[str], dict[int, SourceTable]], Graph]

    def to_dict(self) -> dict:
        return {"key": self.key, "label": self.label, "description": self.description}


def _node(node_id: str, component: str, column: int, row: float, **params) -> Node:
    position = {"x": MARGIN + COLUMN_WIDTH * column, "y": MARGIN + ROW_HEIGHT * row}
    return Node(node_id, component, VERSION, params, position)


def _columns(source: SourceTable | None, role: str, types=None) -> list[str]:
    if source is None:
        return []
    return [
        column.name
        for column in source.columns
        if column.role == role and (types is None or column.type in types)
    ]


def _choose_dataset(
    party: str, sources: dict[int, SourceTable], want_label: bool
) -> SourceTable | None:
    """The party's dataset the template uses (see the module docstring), or None."""
    mine = [source for source in sources.values() if source.party == party]

    def rank(item: tuple[int, SourceTable]) -> tuple:
        newest_first, source = item
        has_label = bool(_columns(source, "label")) if want_label else False
        return (not _columns(source, "id"), not has_label, newest_first)

    return min(enumerate(mine), key=rank)[1] if mine else None


def _chosen_datasets(
    parties: Sequence[str], sources: dict[int, SourceTable], want_label: bool = False
) -> dict[str, SourceTable | None]:
    """The parties that take part in PSI, each with its dataset (None: none authorised):
    parties with datasets first, at most three, at least two (a party without a dataset still
    gets a read node to configure)."""
    chosen = {party: _choose_dataset(party, sources, want_label) for party in parties}
    with_data = [party for party in parties if chosen[party] is not None]
    rest = [party for party in parties if chosen[party] is None]
    joined = (with_data + rest)[: max(2, min(PSI_MAX_PARTIES, len(with_data)))]
    return {party: chosen[party] for party in joined}


def _psi_keys(datasets: list[SourceTable | None]) -> list[list[str]]:
    """One key column per dataset ([] when it has no ID column), preferring a shared name."""
    ids = [_columns(source, "id") for source in datasets]
    present = [names for names in ids if names]
    shared = set.intersection(*map(set, present)) if present else set()
    return [
        [next((name for name in names if name in shared), names[0])] if names else []
        for names in ids
    ]


def _reads_and_psi(chosen: dict[str, SourceTable | None]) -> Graph:
    graph = Graph()
    psi_params = {}
    keys = _psi_keys(list(chosen.values()))
    for index, source in enumerate(chosen.values(), start=1):
        params = {"dataset": source.dataset_id} if source else {}
        read = _node(f"read_{index}", "read/dataset", 0, index - 1, **params)
        graph.nodes[read.id] = read
        graph.edges.append(Edge(read.id, "output_ds", "psi", f"input_ds{index}"))
        if keys[index - 1]:
            psi_params[f"keys{index}"] = keys[index - 1]
    psi = _node("psi", "data_prep/psi", 1, (len(chosen) - 1) / 2, **psi_params)
    graph.nodes[psi.id] = psi
    return graph


def blank(parties: Sequence[str], sources: dict[int, SourceTable]) -> Graph:
    return Graph()


def joint_audience(parties: Sequence[str], sources: dict[int, SourceTable]) -> Graph:
    graph = _reads_and_psi(_chosen_datasets(parties, sources))
    row = (len(graph.nodes) - 2) / 2  # beside PSI, which sits in the middle of the reads
    stats = _node("stats", "stats/table_statistics", 2, row)
    graph.nodes[stats.id] = stats
    graph.edges.append(Edge("psi", "output_ds", "stats", "input_ds"))
    return graph


def _label(chosen: dict[str, SourceTable | None]) -> tuple[str, str] | None:
    """(label column, its party): the first label of the first party that holds one."""
    for party, source in chosen.items():
        for name in _columns(source, "label", MODEL_TYPES):
            return name, party
    return None


# From the split to the evaluation (node ids as in `credit_risk`; the demo pipeline shares them).
MODEL_EDGES = (
    Edge("split", "train_ds", "fill_train", "input_ds"),
    Edge("split", "test_ds", "fill_test", "input_ds"),
    Edge("fill_train", "output_ds", "scale_train", "input_ds"),
    Edge("fill_test", "output_ds", "scale_test", "input_ds"),
    Edge("scale_train", "output_rule", "scale_test", "input_rule"),
    Edge("scale_train", "output_ds", "train", "input_ds"),
    Edge("train", "output_model", "predict", "input_model"),
    Edge("scale_test", "output_ds", "predict", "input_ds"),
    Edge("predict", "output_ds", "evaluate", "input_ds"),
)


def credit_risk(parties: Sequence[str], sources: dict[int, SourceTable]) -> Graph:
    chosen = _chosen_datasets(parties, sources, want_label=True)
    graph = _reads_and_psi(chosen)
    features = [name for s in chosen.values() for name in _columns(s, "feature", MODEL_TYPES)]
    numeric = [name for s in chosen.values() for name in _columns(s, "feature", NUMERIC_TYPES)]
    label = _label(chosen)
    train_params = {"features": features, **TRAINING} if features else dict(TRAINING)
    predict_params = {"save_label": True}
    eval_params = {"prediction": "pred"}
    if label:
        train_params["label"] = label[0]
        predict_params["receiver"] = label[1]
        eval_params["label"] = label[0]
    fill = {"features": features} if features else {}
    scale = {"features": numeric} if numeric else {}
    middle = (len(chosen) - 1) / 2
    for node in (
        _node("split", "data_prep/train_test_split", 2, middle, train_size=0.75, test_size=0.25),
        _node("fill_train", "preprocessing/fillna", 3, middle - 0.5, **fill),
        _node("fill_test", "preprocessing/fillna", 3, middle + 0.5, **fill),
        _node("scale_train", "preprocessing/scaler", 4, middle - 0.5, **scale),
        _node("scale_test", "preprocessing/scaler", 4, middle + 0.5, **scale),
        _node("train", "ml.train/ss_lr", 5, middle - 0.5, **train_params),
        _node("predict", "ml.predict/ss_lr", 6, middle, **predict_params),
        _node("evaluate", "ml.eval/binary_classification", 7, middle, **eval_params),
    ):
        graph.nodes[node.id] = node
    graph.edges += [Edge("psi", "output_ds", "split", "input_ds"), *MODEL_EDGES]
    return graph


STARTERS = {
    starter.key: starter
    for starter in (
        Starter("blank", "Blank", "An empty canvas.", blank),
        Starter(
            "joint_audience",
            "Joint audience (PSI)",
            "Each party's dataset joined by private set intersection on its id column, "
            "with statistics of the joint audience.",
            joint_audience,
        ),
        Starter(
            "credit_risk",
            "Credit risk binary classification",
            "PSI, train/test split, missing values and scaling, secret-shared logistic "
            "regression, prediction for the label holder and binary classification "
            "evaluation (ROC, KS, lift).",
            credit_risk,
        ),
    )
}


def _dataset_notes(index: int, party: str, source, sources, credit: bool) -> list[str]:
    if source is None:
        return [f"{party} has no dataset authorised to the project: choose it on read_{index}."]
    said = []
    mine = [other for other in sources.values() if other.party == party]
    if len(mine) > 1:
        said.append(f"{party} has {len(mine)} datasets: the template took '{source.name}'.")
    if not _columns(source, "id"):
        said.append(f"'{source.name}' has no ID column: choose the PSI keys of input {index}.")
    text = [c.name for c in source.columns if c.role == "feature" and c.type not in MODEL_TYPES]
    if credit and text:
        said.append(
            f"Text features of '{source.name}' left out (SS-LR takes numbers; encode them "
            f"first): {', '.join(text)}."
        )
    return said


def notes(key: str, parties: Sequence[str], sources: dict[int, SourceTable]) -> list[str]:
    """What the template chose or could not decide, for the user who created it (in words)."""
    if key == "blank":
        return []
    credit = key == "credit_risk"
    chosen = _chosen_datasets(parties, sources, want_label=credit)
    said = []
    for index, (party, source) in enumerate(chosen.items(), start=1):
        said += _dataset_notes(index, party, source, sources, credit)
    if credit and _label(chosen) is None:
        said.append("No dataset has a label column: choose the label on 'train' and 'evaluate'.")
    return said


def build(key: str, parties: Sequence[str], sources: dict[int, SourceTable]) -> Graph:
    """The template's graph for a project; KeyError names an unknown template."""
    if key not in STARTERS:
        raise KeyError(f"unknown pipeline template {key!r}; choose one of {', '.join(STARTERS)}")
    return STARTERS[key].build(parties, sources)
