"""ml.train/ss_lr: secret-shared logistic / linear regression on a vertical table (SS-SGD).

Engine: `core.ml.ss_lr.SSRegression` on a SEMI2K SPU over the table's parties (algorithm,
revealed values and their justification in that module). Each party loads only its own feature
columns (the label party also its label) on its own worker; everything else happens on shares.

Model: every party of the table holds one part, `output_model` at that party: the public
manifest (parties in SPU order, feature columns per party, label, parameters, loss per epoch)
and that party's share of the weights (`workflows.components.secure`). The weights are never
reconstructed unless the label holder, who owns the model, sets `report_weights`: then they are
revealed into the report, which every project party receives. Progress is reported after each
epoch; a cancelled run stops there.

Streaming: each party reads its columns from the columnar file slice by slice, first to
measure them, then to share them into the engine block by block (`secure.streamed_blocks`,
`core.ml.ss_lr.SharedRows`): no party holds its whole plaintext matrix beside the shares.

Honest results (`workflows.components.checks`, `workflows.components.secure`): before training,
each party measures its own feature columns (only a power-of-two bound of their largest |x|,
the row count and whether some column is unscaled leave it, to every party of the table: the
model port declares it, `BOUNDS_WHAT`); unscaled columns are a warning on
the node naming the party and columns with the fix (read in full by that party's users only);
the field and fixed-point precision are planned from the bounds (stated in the log, stored in
the manifest for prediction): FM64, or FM128 when FM64 cannot hold the gradient's products
(e.g. a price label in dollars), and a range that no precision holds fails the node at the
party with the largest inputs, naming its columns to its users only (`secure.data_failure`).
After training, an impossible or exploding loss fails the node. Scale the features first
(`preprocessing/scaler`): gradient descent converges far better on standardised features, and
they keep the full 18 fraction bits.

The loss per epoch is opened to the label holder alone (`SSRegression.fit(loss_to=...)`): it
is in the label holder's report and model manifest, and the loss checks run there. It is a
function of the labels whose coefficients the feature holders choose: a party whose feature is
8 on one customer and 0 elsewhere read that customer's label from a single run's loss (0.1167
for a label 1, 0.1182 for a 0, over 60 rows), so no other party receives it: their copies of the
report and manifest hold the number of epochs run, the log line too. What the others still
learn about the labels: whether the loss checks failed (the refusal's words, no value), whether
training stalled (that the label holder has a warning), and with `eps` > 0 the epoch where
training stopped (one bit per epoch, which the plan states). Over a handful of rows even those
bits tell labels apart, so a table of fewer than k rows (`RunContext.min_group_rows`) is refused
before anything is measured or shared when the project has a party other than the label
holder (`check_enough_rows`).
"""

from __future__ import annotations

import math

import numpy as np
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

import core
from core import reveal
from core.ml.ss_lr import LOSS_CLIP, SSRegression
from workflows.components import secure
from workflows.components.aggregates import enough_rows
from workflows.components.checks import (
    CheckFailed,
    check_losses,
    progress_warning,
    scaling_pointer,
    scaling_warning,
)
from workflows.components.context import RunContext
from workflows.components.disclosure import (
    Declares,
    DisclosureContext,
    Flow,
    Form,
    disclose,
    input_bounds,
)
from workflows.components.params import BoolParam, ChoiceParam, ColumnsParam, FloatParam, IntParam
from workflows.components.schema import ArtifactInfo, PortType
from workflows.components.spec import Component, InferContext, Port
from workflows.components.tables import (
    aligned_rows,
    finite,
    report_info,
    report_port,
    table_port,
)
from workflows.messages import translatable, translatable_plural

MODEL_KIND = "ss_lr"
# The loss clips probabilities at LOSS_CLIP = 2^-10, which fewer bits would round to 0 (and
# log(0) is garbage): below this resolution the revealed losses were seen to go negative.
MIN_FRACTION_BITS = round(-math.log2(LOSS_CLIP))


def infer(ctx: InferContext) -> dict[str, ArtifactInfo]:
    info = ctx.inputs["input_ds"]
    picked = set(ctx.params["features"]) | {ctx.params["label"]}
    columns = tuple(c for c in info.columns if c.name in picked and c.role in ("feature", "label"))
    model = ArtifactInfo(PortType.MODEL, info.parties, columns)
    return {"output_model": model, "report": report_info(ctx.env.parties)}


def used(ctx: DisclosureContext):
    return ctx.refs("input_ds", [*ctx.params["features"], ctx.params["label"]])


# What `measure` reveals to every party of the table before training (`secure.PartyBounds`).
BOUNDS_WHAT = gettext_noop(
    "the order of magnitude (a power of two) of the largest absolute value of the features "
    "(and, apart, of the label), the row count and whether some feature is unscaled"
)


def label_holder(ctx: DisclosureContext) -> str:
    return ctx.inputs["input_ds"].find(ctx.params["label"])[0].party


def model_flows(ctx: DisclosureContext) -> list[Flow]:
    """Every party of the table holds a share of the weights and the manifest (the loss per
    epoch in the label holder's only); each learnt, before training, the bounds of the other
    parties' columns (`measure`)."""
    parties = ctx.outputs["output_model"].parties
    what = gettext_noop(
        "a secret share of the model and its manifest, with the epoch where training stopped "
        "early (eps)"
    )
    return [
        Flow(parties, Form.MODEL, used(ctx), what),
        input_bounds(parties, used(ctx), BOUNDS_WHAT),
    ]


def report_flows(ctx: DisclosureContext) -> list[Flow]:
    loss = gettext_noop("the training loss per epoch")
    flows = [Flow((label_holder(ctx),), Form.AGGREGATE, used(ctx), loss, ctx.min_group)]
    if ctx.params["report_weights"]:
        flows.append(
            Flow(ctx.parties, Form.MODEL, used(ctx), gettext_noop("the revealed model weights"))
        )
    return flows


def check(ctx: InferContext) -> list:
    info, label = ctx.inputs["input_ds"], ctx.params["label"]
    if label in ctx.params["features"]:
        return [
            translatable("column %(column)s is both the label and a feature", column=repr(label))
        ]
    if len(info.find(label)) > 1:
        return [
            translatable(
                "label %(label)s is held by several parties; rename it at all but one",
                label=repr(label),
            )
        ]
    return []


def feature_layout(info: ArtifactInfo, features: list[str]) -> list[dict]:
    """Feature columns per party, in SPU party order (the order of the weights)."""
    chosen = set(features)
    layout = []
    for party in info.parties:
        names = [c.name for c in info.columns_at(party) if c.name in chosen and c.role == "feature"]
        if names:
            layout.append({"party": party, "columns": names})
    return layout


def read_numeric(data, party: str, columns: list[str]) -> np.ndarray:
    """A party's own columns as float64, refusing missing values (fill them first)."""
    return secure.refuse_missing(data.read_numeric(party, columns), party, columns)


def measure(ctx: RunContext, layout: list[dict], label_party: str) -> list[secure.PartyBounds]:
    """What each party discloses about its own input columns (`secure.PartyBounds`),
    measured in one streamed pass at the party: features first, the label's bounds last."""
    data = ctx.inputs["input_ds"]
    bounds = [secure.measure_streamed(data, p["party"], p["columns"]) for p in layout]
    label = [ctx.params["label"]]
    return [*bounds, secure.measure_streamed(data, label_party, label, features=False)]


def training_blocks(ctx: RunContext, layout, label_party: str, bounds, block_rows: int):
    """(feature parts, labels) of consecutive blocks of rows, each read at its owner just
    before the engine shares it (`secure.streamed_blocks`)."""
    inputs = [(p["party"], p["columns"], b) for p, b in zip(layout, bounds, strict=False)]
    inputs.append((label_party, [ctx.params["label"]], bounds[-1]))
    for block in secure.streamed_blocks(ctx.inputs["input_ds"], inputs, block_rows):
        yield block[:-1], block[-1]


def block_rows(batch: int) -> int:
    """Rows per streamed block: a multiple of the batch, so every batch lies in one block and
    the batches are those of a whole-table run."""
    return batch * max(1, secure.BLOCK_ROWS // batch)


def warn_unscaled(ctx: RunContext, bounds: list[secure.PartyBounds]) -> str:
    """A warning per party with unscaled features (its columns, for its users only: written
    where its details are, `secure.warn_about`); returns the fix for failure messages, which
    every party reads: it names the parties only."""
    for measured in bounds:
        if measured.has_unscaled:
            names = measured.unscaled
            full = None if names is None else scaling_warning(measured.party, list(names))
            secure.warn_about(ctx, measured.party, full)
    return scaling_pointer(secure.unscaled_parties(bounds))


def train(ctx: RunContext, model: SSRegression, rows, label_party: str) -> SSRegression:
    p = ctx.params
    model.fit(
        rows,
        epochs=p["epochs"],
        learning_rate=p["learning_rate"],
        batch_size=p["batch_size"],
        sig_type=p["sig_type"],
        reg_type=p["reg_type"],
        penalty=None if p["penalty"] == "none" else "l2",
        l2_norm=p["l2_norm"],
        eps=p["eps"],
        # After each epoch: progress, and the point where a cancelled run stops.
        on_epoch=lambda epoch: ctx.progress(5 + 90 * epoch / p["epochs"]),
        loss_to=core.PYU(label_party),  # the others never receive it (module docstring)
    )
    return model


def checked_losses(ctx: RunContext, model: SSRegression, label_party: str, advice):
    """At the label holder: its losses (floats; None where this process does not run it),
    and a warning if training stalled. A broken loss fails the node there: its refusal, which
    says no value, is what every party reads."""
    reg_type = ctx.params["reg_type"]

    def judge(*values):
        losses = [float(v) for v in values]
        check_losses(losses, reg_type, advice)
        # The fix names no party's columns: each party's scaling warning names its own.
        return [finite(v) for v in losses], progress_warning(losses, reg_type, "")

    judged = secure.at_party(label_party, judge, *model.losses)
    here = core.PYU(label_party).local(judged)
    stalled = reveal(secure.at_party(label_party, lambda pair: pair[1] is not None, judged))
    if stalled:  # the others learn that the label holder has a warning, not its text
        secure.warn_about(ctx, label_party, None if here is None else here[1])
    return None if here is None else here[0]


def manifest(ctx: RunContext, layout, label_party: str, model, plan, party: str, losses) -> dict:
    """`party`'s manifest: the label holder's with the loss per epoch, the others' without
    (`ml.predict/ss_lr` compares the parts' manifests without their metrics)."""
    p, epochs = ctx.params, len(model.losses)
    metrics = {"loss": losses} if party == label_party else {}
    return {
        "kind": MODEL_KIND,
        "parties": list(ctx.inputs["input_ds"].info.parties),
        "features": layout,
        "label": {"name": p["label"], "party": label_party},
        "reg_type": p["reg_type"],
        "sig_type": p["sig_type"],
        "params": dict(p),
        "metrics": metrics | {"epochs_run": epochs},
        "weights_revealed": p["report_weights"],
        "precision": {"field": plan.field, "fxp_fraction_bits": plan.fxp_fraction_bits},
    }


def revealed_weights(weights: np.ndarray, layout: list[dict]) -> dict:
    names = [f"{part['party']}.{name}" for part in layout for name in part["columns"]]
    flat = [float(v) for v in np.asarray(weights).ravel()]
    return {"features": dict(zip(names, flat[:-1], strict=True)), "bias": flat[-1]}


def check_reveal_consent(ctx: RunContext, label_party: str) -> None:
    """Only the model's owner (the label holder) may reveal its weights, by starting the run."""
    if ctx.params["report_weights"] and ctx.requested_by != label_party:
        started_by = ctx.requested_by or translatable("no party")
        raise PermissionError(
            translatable(
                "report_weights reveals the model's weights to every party: only a user of "
                "%(party)s, the label holder who owns the model, may start such a run (this run "
                "was started by %(started_by)s)",
                party=repr(label_party),
                started_by=started_by,
            )
        )


def check_enough_rows(ctx: RunContext, label_party: str) -> None:
    """Refuse a table of fewer than k rows when the project has a party other than the label
    holder (module docstring). Row counts are public in a project: the refusal says it."""
    rows, k = aligned_rows(ctx, "input_ds"), ctx.min_group_rows
    if enough_rows(rows, k) or not any(party != label_party for party in ctx.parties):
        return
    raise CheckFailed(
        translatable(
            "SS-LR training needs at least %(k)s rows: the table has %(rows)s. Over so few "
            "rows, what every party learns of the training (when it stopped, whether its loss "
            "checks failed) would tell the rows' labels apart. Fix: train on a larger table.",
            k=k,
            rows=rows,
        )
    )


def run(ctx: RunContext) -> None:
    info = ctx.inputs["input_ds"].info
    layout = feature_layout(info, ctx.params["features"])
    label_party = info.find(ctx.params["label"])[0].party
    check_reveal_consent(ctx, label_party)
    check_enough_rows(ctx, label_party)
    ctx.progress(0)
    parties = list(info.parties)
    with secure.session(ctx, parties):
        bounds = measure(ctx, layout, label_party)
        advice = warn_unscaled(ctx, bounds)
        batch = min(ctx.params["batch_size"], bounds[-1].rows)
        magnitude = secure.gradient_magnitude(bounds, batch)
        what = _("SS-LR training")
        plan = secure.plan_spu(ctx, bounds, magnitude, what, MIN_FRACTION_BITS)
        spu = secure.make_spu(ctx, parties, plan, what)
        model = SSRegression(spu)
        with secure.named_range_errors(bounds, what):
            blocks = training_blocks(ctx, layout, label_party, bounds, block_rows(batch))
            model = train(ctx, model, model.share_rows(blocks), label_party)
        losses = checked_losses(ctx, model, label_party, advice)

        def write(party: str, share: dict) -> None:
            meta = manifest(ctx, layout, label_party, model, plan, party, losses)
            ctx.write_json("output_model", party, {"manifest": meta, "weights": share})

        spu.export_shares(model.weights, write)
        weights = reveal(model.weights) if ctx.params["report_weights"] else None
    label = {"name": ctx.params["label"], "party": label_party}
    report = {"kind": "ss_lr_train", "features": layout, "label": label}
    report["epochs_run"] = len(model.losses)
    if weights is not None:
        report["weights"] = revealed_weights(weights, layout)
    for party in ctx.here(ctx.infos["report"].parties):
        # The loss per epoch only in the label holder's copy (module docstring).
        ctx.write_json("report", party, report | ({"loss": losses} if party == label_party else {}))
    ctx.log(
        translatable_plural(
            "trained %(epochs)s epoch (the loss is in %(party)s's report)",
            "trained %(epochs)s epochs (the loss is in %(party)s's report)",
            "epochs",
            epochs=len(model.losses),
            party=label_party,
        )
    )
    ctx.progress(100)


COMPONENT = Component(
    domain="ml.train",
    name="ss_lr",
    version="1.0.0",
    category="ml",
    label=_("SS-LR training"),
    description=_(
        "Train logistic or linear regression on secret shares (SPU) across the parties "
        "of a vertical table; the weights stay secret-shared unless revealed in the report."
    ),
    inputs=(table_port("input_ds", _("Training table")),),
    outputs=(
        Port(
            "output_model",
            (PortType.MODEL,),
            _("Model"),
            _("Manifest and a weight share per party."),
        ),
        report_port(),
    ),
    params=(
        ColumnsParam(
            name="features",
            port="input_ds",
            roles=("feature",),
            types=("int", "float", "bool"),
            min_count=1,
            help=_("Feature columns, from any party."),
            refuses_missing=True,
        ),
        ColumnsParam(
            name="label",
            port="input_ds",
            roles=("label",),
            types=("int", "float", "bool"),
            multiple=False,
            help=_("The label column (0/1 for logistic regression); its holder owns the model."),
            refuses_missing=True,
        ),
        IntParam(
            name="epochs", default=10, minimum=1, maximum=1000, help=_("Passes over the data.")
        ),
        FloatParam(
            name="learning_rate", default=0.1, minimum=0, exclusive_minimum=True, maximum=10
        ),
        IntParam(name="batch_size", default=1024, minimum=1, maximum=1_000_000),
        ChoiceParam(
            name="sig_type",
            choices=("real", "mm1", "seg3"),
            default="real",
            help=_(
                "Sigmoid on the SPU: real (exp and reciprocal, the most accurate), mm1 "
                "(first-order Taylor, fastest) or seg3 (three-piece linear)."
            ),
        ),
        ChoiceParam(name="reg_type", choices=("logistic", "linear"), default="logistic"),
        ChoiceParam(name="penalty", choices=("none", "l2"), default="none"),
        FloatParam(name="l2_norm", default=0.5, minimum=0, help=_("L2 strength (penalty l2).")),
        FloatParam(
            name="eps",
            default=0.001,
            minimum=0,
            help=_("Stop early when no weight changes by more than this in an epoch (0: never)."),
        ),
        BoolParam(
            name="report_weights",
            default=False,
            help=_(
                "Reveal the weights in the report. Only a run started by the label holder "
                "(the model's owner) may do this."
            ),
        ),
    ),
    infer=infer,
    check=check,
    run=run,
    disclosure=disclose(
        output_model=Declares(flows=model_flows), report=Declares(flows=report_flows)
    ),
)
