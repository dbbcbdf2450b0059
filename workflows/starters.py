"""Pipeline templates: the graphs a new pipeline can start from.

- `blank`: an empty canvas.
- `joint_audience`: each party's dataset -> PSI on the parties' id columns -> table statistics
  of the joint audience (its size and column summaries; no row leaves its owner).
- `credit_risk`: datasets -> PSI -> train/test split -> fill missing values (each half) ->
  standard scaling (fitted on train, its rule applied to test) -> SS-LR training -> prediction
  for the label holder -> binary classification evaluation.

Templates are filled from what the project already knows, never guessed beyond it: a party's
dataset is chosen when exactly one of its datasets is authorised; PSI keys are the columns with
role `id`; features are the columns with role `feature`; the label is the one column with role
`label`, and its owner receives the predictions. Whatever cannot be decided is left empty, so
the canvas draws that node as "needs configuration" and validation names the missing setting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from workflows.graph import Edge, Graph, Node
from workflows.ports import SourceTable

VERSION = "1.0.0"
PSI_MAX_PARTIES = 3
COLUMN_WIDTH, ROW_HEIGHT, MARGIN = 240, 110, 40


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


def _only_dataset(party: str, sources: dict[int, SourceTable]) -> SourceTable | None:
    mine = [source for source in sources.values() if source.party == party]
    return mine[0] if len(mine) == 1 else None


def _columns(source: SourceTable | None, role: str) -> list[str]:
    return [column.name for column in source.columns if column.role == role] if source else []


def _joined_parties(parties: Sequence[str], sources: dict[int, SourceTable]) -> list[str]:
    """The parties that take part in PSI: those with datasets first, at most three, at least
    two (parties without a dataset still get a read node to configure)."""
    with_data = [party for party in parties if any(s.party == party for s in sources.values())]
    rest = [party for party in parties if party not in with_data]
    return (with_data + rest)[: max(2, min(PSI_MAX_PARTIES, len(with_data)))]


def _reads_and_psi(parties: Sequence[str], sources: dict[int, SourceTable]) -> Graph:
    graph = Graph()
    chosen = _joined_parties(parties, sources)
    psi_params = {}
    for index, party in enumerate(chosen, start=1):
        source = _only_dataset(party, sources)
        params = {"dataset": source.dataset_id} if source else {}
        read = _node(f"read_{index}", "read/dataset", 0, index - 1, **params)
        graph.nodes[read.id] = read
        graph.edges.append(Edge(read.id, "output_ds", "psi", f"input_ds{index}"))
        keys = _columns(source, "id")[:1]
        if keys:
            psi_params[f"keys{index}"] = keys
    psi = _node("psi", "data_prep/psi", 1, (len(chosen) - 1) / 2, **psi_params)
    graph.nodes[psi.id] = psi
    return graph


def blank(parties: Sequence[str], sources: dict[int, SourceTable]) -> Graph:
    return Graph()


def joint_audience(parties: Sequence[str], sources: dict[int, SourceTable]) -> Graph:
    graph = _reads_and_psi(parties, sources)
    row = (len(graph.nodes) - 2) / 2  # beside PSI, which sits in the middle of the reads
    stats = _node("stats", "stats/table_statistics", 2, row)
    graph.nodes[stats.id] = stats
    graph.edges.append(Edge("psi", "output_ds", "stats", "input_ds"))
    return graph


def _label(parties: Sequence[str], sources: dict[int, SourceTable]) -> tuple[str, str] | None:
    """(label column, its party) when exactly one chosen dataset has exactly one label."""
    found = []
    for party in parties:
        found += [(name, party) for name in _columns(_only_dataset(party, sources), "label")]
    return found[0] if len(found) == 1 else None


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
    graph = _reads_and_psi(parties, sources)
    chosen = _joined_parties(parties, sources)
    features = [
        name for party in chosen for name in _columns(_only_dataset(party, sources), "feature")
    ]
    label = _label(chosen, sources)
    train_params = {"features": features} if features else {}
    predict_params = {"save_label": True}
    eval_params = {"prediction": "pred"}
    if label:
        train_params["label"] = label[0]
        predict_params["receiver"] = label[1]
        eval_params["label"] = label[0]
    prep = {"features": features} if features else {}
    middle = (len(chosen) - 1) / 2
    for node in (
        _node("split", "data_prep/train_test_split", 2, middle, train_size=0.75, test_size=0.25),
        _node("fill_train", "preprocessing/fillna", 3, middle - 0.5, **prep),
        _node("fill_test", "preprocessing/fillna", 3, middle + 0.5, **prep),
        _node("scale_train", "preprocessing/scaler", 4, middle - 0.5, **prep),
        _node("scale_test", "preprocessing/scaler", 4, middle + 0.5, **prep),
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


def build(key: str, parties: Sequence[str], sources: dict[int, SourceTable]) -> Graph:
    """The template's graph for a project; KeyError names an unknown template."""
    if key not in STARTERS:
        raise KeyError(f"unknown pipeline template {key!r}; choose one of {', '.join(STARTERS)}")
    return STARTERS[key].build(parties, sources)
