"""ml.predict/ss_lr: predict with an SS-LR model on secret shares; reveal to one receiver only.

Every party of the model loads its own weight share and its own feature columns of the input
table (the same columns, at the same parties, as in training) on its own worker; the SPU
computes the predictions on shares (`SSRegression.predict`) and opens them to the receiver
alone (`SPUObject.to(PYU(receiver))`), so no other party ever holds a prediction. The output is
an individual table at the receiver: optionally its own id columns and the label (only columns
the receiver holds), then the prediction column.

Each party reads its columns slice by slice: once to measure them, then to share them block
by block (`secure.streamed_blocks`). The SPU has the precision the model was trained with (its
manifest); each party measures its own columns first (as in training, only a power-of-two
bound, the row count and whether a column is unscaled leave it, to every party of the model:
the output port declares it, `BOUNDS_WHAT`), and a table whose values that
precision cannot hold fails the node at the party with the largest values, naming its columns
to its users only (`secure.data_failure`). The receiver checks the predictions before writing them
(`checks.check_predictions`): a logistic model's predictions outside [0, 1] or any non-finite
value fail the node instead of being saved.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

import core
from core.ml.ss_lr import SSRegression
from core.mpc.precision import DEFAULT_FRACTION_BITS, PrecisionPlan
from workflows.components import secure
from workflows.components.checks import check_predictions, gaps_message
from workflows.components.context import RunContext
from workflows.components.disclosure import (
    Declares,
    DisclosureContext,
    Flow,
    Ref,
    disclose,
    input_bounds,
)
from workflows.components.library.ss_lr_train import MODEL_KIND, warn_unscaled
from workflows.components.params import BoolParam, PartyParam, StrParam
from workflows.components.schema import ArtifactInfo, Column, PortType
from workflows.components.spec import Component, InferContext, Port
from workflows.components.tables import table_port
from workflows.messages import Message, translatable


def _saved_columns(ctx: InferContext) -> list[Column]:
    info, receiver, p = ctx.inputs["input_ds"], ctx.params["receiver"], ctx.params
    model = ctx.inputs["input_model"]
    labels = {c.name for c in model.columns if c.role == "label"}
    saved = []
    for column in info.columns_at(receiver):
        if (p["save_ids"] and column.role == "id") or (p["save_label"] and column.name in labels):
            saved.append(column)
    return saved


def infer(ctx: InferContext) -> dict[str, ArtifactInfo]:
    saved = _saved_columns(ctx)
    pred = Column(ctx.params["pred_name"], "float", ctx.params["receiver"], "feature")
    return {"output_ds": ArtifactInfo.table([*saved, pred])}


def check(ctx: InferContext) -> list:
    info, model, p = ctx.inputs["input_ds"], ctx.inputs["input_model"], ctx.params
    problems = []
    if p["receiver"] not in model.parties:
        problems.append(
            translatable(
                "receiver %(receiver)s holds no part of the model (held by %(parties)s)",
                receiver=repr(p["receiver"]),
                parties=list(model.parties),
            )
        )
    for column in model.columns:
        held = {c.name for c in info.columns_at(column.party)}
        if column.role == "feature" and column.name not in held:
            problems.append(
                translatable(
                    "feature %(column)s of %(party)s is not in the input",
                    column=repr(column.name),
                    party=repr(column.party),
                )
            )
    if p["pred_name"] in {c.name for c in _saved_columns(ctx)}:
        problems.append(
            translatable(
                "pred_name %(name)s clashes with a saved column", name=repr(p["pred_name"])
            )
        )
    gaps: dict[str, list[str]] = {}
    for column in model.columns:
        held = [c for c in info.columns_at(column.party) if c.name == column.name]
        if column.role == "feature" and held and held[0].missing:
            gaps.setdefault(column.party, []).append(column.name)
    if gaps:
        problems.append(gaps_message(_("SS-LR prediction"), gaps))
    return problems


# What `predict` reveals to every party of the model before scoring (`secure.PartyBounds`).
BOUNDS_WHAT = gettext_noop(
    "the order of magnitude (a power of two) of the largest absolute value of the features "
    "to score, the row count and whether some feature is unscaled"
)


def scored_features(ctx: DisclosureContext) -> tuple[Ref, ...]:
    """The model's feature columns in the scored table, at the parties of the model."""
    model = ctx.inputs["input_model"]
    features = [c.name for c in model.columns if c.role == "feature"]
    return tuple(ref for ref in ctx.refs("input_ds", features) if ref.party in model.parties)


def lineage(ctx: DisclosureContext) -> dict[tuple[str, str], tuple[Ref, ...]]:
    """Saved columns are the receiver's own; the prediction derives from the model (features
    and label of training) and every model party's feature columns of the scored table."""
    out = ctx.outputs["output_ds"]
    derived = ctx.refs("input_model") + scored_features(ctx)
    pred = (ctx.params["receiver"], ctx.params["pred_name"])
    return {
        (c.party, c.name): derived
        if (c.party, c.name) == pred
        else (Ref("input_ds", c.party, c.name),)
        for c in out.columns
    }


def bounds_flows(ctx: DisclosureContext) -> list[Flow]:
    """Every party of the model learns the bounds of the other parties' features to score
    (`predict`), whoever receives the predictions."""
    return [input_bounds(ctx.inputs["input_model"].parties, scored_features(ctx), BOUNDS_WHAT)]


def predictions_what(ctx: DisclosureContext) -> str:
    return (
        gettext_noop("id-linked prediction scores")
        if ctx.params["save_ids"]
        else gettext_noop("prediction scores")
    )


def read_part(data, party: str) -> dict:
    part = data.read_json(party)
    if part.get("manifest", {}).get("kind") != MODEL_KIND:
        raise ValueError(
            translatable("the model part at %(party)s is not an SS-LR model", party=party)
        )
    return part


def public_manifest(data, party: str) -> dict:
    """A party's manifest without its metrics (`ml.train/ss_lr`: the label holder's alone
    holds the loss per epoch, which no other party may receive)."""
    manifest = read_part(data, party)["manifest"]
    return {key: value for key, value in manifest.items() if key != "metrics"}


def trained_precision(manifest: dict) -> PrecisionPlan | None:
    """The model's precision (None: SPU's default, for models saved before it was stored)."""
    stored = manifest.get("precision")
    if not stored:
        return None
    reason = f"the model's: {stored['field']} with {stored['fxp_fraction_bits']} fraction bits"
    return PrecisionPlan(stored["field"], stored["fxp_fraction_bits"], reason)


def check_fits(ctx: RunContext, bounds, trained: PrecisionPlan | None, features: int) -> None:
    """The table's values must fit the precision the model's shares are encoded with."""
    magnitude = secure.gradient_magnitude(bounds, features)  # X w sums `features` products
    default = (secure.FIELD, DEFAULT_FRACTION_BITS)  # models saved before plans were stored
    field, bits = (trained.field, trained.fxp_fraction_bits) if trained else default
    needed = secure.plan_spu(ctx, bounds, magnitude, _("the table to score"), field=field)
    ctx.log(
        translatable(
            "SS-LR prediction computes with the model's precision: %(field)s, %(bits)s "
            "fraction bits",
            field=field,
            bits=bits,
        )
    )
    if needed.fxp_fraction_bits < bits:
        raise secure.data_failure(
            bounds, _("SS-LR prediction"), lambda top: beyond_the_model(top, bits)
        )


def beyond_the_model(top: secure.PartyBounds, bits: int) -> Message:
    """The full text, for the users of the party whose values the model's precision cannot
    hold."""
    return translatable(
        "the values of %(columns)s are larger than the model's precision (%(bits)s fraction "
        "bits) can hold. Fix: transform this table as the training table was (apply the "
        "training scaler's rule to it).",
        columns=top.named_columns(),
        bits=bits,
    )


def predict(ctx: RunContext, manifest: dict):
    """Scores revealed to the receiver only, and the fix to name if they are wrong."""
    data, model = ctx.inputs["input_ds"], ctx.inputs["input_model"]
    inputs = []
    for part in manifest["features"]:
        party, columns = part["party"], part["columns"]
        inputs.append((party, columns, secure.measure_streamed(data, party, columns)))
    bounds = [measured for _, _, measured in inputs]
    advice = warn_unscaled(ctx, bounds)
    trained = trained_precision(manifest)
    check_fits(ctx, bounds, trained, sum(len(part["columns"]) for part in manifest["features"]))
    spu = secure.make_spu(ctx, manifest["parties"], trained, _("SS-LR prediction"))
    weights = spu.import_shares(lambda party: read_part(model, party)["weights"])
    ctx.progress(30)
    regression = SSRegression(
        spu, weights=weights, reg_type=manifest["reg_type"], sig_type=manifest["sig_type"]
    )
    with secure.named_range_errors(bounds, _("SS-LR prediction")):
        # Read and shared block by block at each party (`secure.streamed_blocks`).
        blocks = secure.streamed_blocks(data, inputs)
        scores = regression.predict(regression.share_rows((block, None) for block in blocks))
        ctx.progress(80)
        return scores.to(core.PYU(ctx.params["receiver"])), advice


def write_output(ctx: RunContext, receiver: str, scores: np.ndarray, manifest: dict, advice):
    """At the receiver: check the predictions, then save them (never saved if wrong)."""
    scores = np.asarray(scores, dtype=np.float64).ravel()
    warning = check_predictions(
        scores, manifest["reg_type"], manifest["sig_type"], receiver, advice
    )
    info = ctx.infos["output_ds"]
    saved = [c.name for c in info.columns_at(receiver)][:-1]
    # Only the saved columns are read, not the receiver's whole table.
    if saved:
        frame = ctx.inputs["input_ds"].read_table(receiver, saved).reset_index(drop=True)
    else:
        frame = pd.DataFrame(index=pd.RangeIndex(len(scores)))
    frame[ctx.params["pred_name"]] = scores
    ctx.write_table("output_ds", receiver, frame.reset_index(drop=True))
    return warning


def run(ctx: RunContext) -> None:
    receiver, model = ctx.params["receiver"], ctx.inputs["input_model"]
    # Each party reads its own manifest and publishes it: manifests are public and must agree
    # (their metrics aside: the loss per epoch is in the label holder's alone).
    manifests = {p: ctx.publish(p, public_manifest, model, p) for p in model.info.parties}
    first = manifests[model.info.parties[0]]
    if any(m != first for m in manifests.values()):
        raise ValueError(
            translatable("the parties' model manifests differ; the model parts do not match")
        )
    ctx.progress(5)
    with secure.session(ctx, first["parties"]):
        at_receiver, advice = predict(ctx, first)
        warned = secure.at_party(
            receiver, lambda s: write_output(ctx, receiver, s, first, advice), at_receiver
        )
        # A warning about the receiver's predictions: its text stays at the receiver, the
        # others learn only that there is one (as its public text tells them anyway).
        warning = core.PYU(receiver).local(warned)
        warns = core.reveal(secure.at_party(receiver, bool, warned))
    if warns:
        secure.warn_about(ctx, receiver, warning)
    ctx.log(
        translatable(
            "predicted '%(name)s' for %(receiver)s", name=ctx.params["pred_name"], receiver=receiver
        )
    )
    ctx.progress(100)


COMPONENT = Component(
    domain="ml.predict",
    name="ss_lr",
    version="1.0.0",
    category="ml",
    label=_("SS-LR prediction"),
    description=_(
        "Predict with an SS-LR model on secret shares; only the receiver party sees the "
        "predictions."
    ),
    inputs=(
        Port("input_model", (PortType.MODEL,), _("SS-LR model")),
        table_port("input_ds", _("Table to score")),
    ),
    outputs=(
        Port("output_ds", (PortType.INDIVIDUAL,), _("Predictions"), _("At the receiver only.")),
    ),
    params=(
        PartyParam(name="receiver", help=_("The only party that receives the predictions.")),
        StrParam(name="pred_name", default="pred", allow_empty=False, max_length=100),
        BoolParam(name="save_ids", default=False, help=_("Keep the receiver's id columns.")),
        BoolParam(
            name="save_label", default=False, help=_("Keep the label if the receiver holds it.")
        ),
    ),
    infer=infer,
    check=check,
    run=run,
    disclosure=disclose(
        output_ds=Declares(
            flows=bounds_flows, parts=True, parts_what=predictions_what, lineage=lineage
        )
    ),
)
