"""data_prep/train_test_split: split a (vertical) table's rows into train and test sets.

Every party draws the same permutation from the shared seed and the (public) row count, so the
rows stay aligned across parties without any party seeing another's columns. The sizes and the
permutation follow scikit-learn's `train_test_split` (test rows first in the permutation, then
train rows), so a plaintext check can reproduce the split exactly. The rows are gathered and
written a slice at a time (`ArtifactData.take`), so memory holds one slice, not the table.
"""

from __future__ import annotations

import math

import numpy as np
from django.utils.translation import gettext_lazy as _

from workflows.components.context import RunContext
from workflows.components.disclosure import KEPT_BY_HOLDERS, disclose
from workflows.components.params import BoolParam, FloatParam, IntParam
from workflows.components.schema import TABLES, ArtifactInfo
from workflows.components.spec import Component, InferContext, Port
from workflows.components.tables import aligned_rows, table_port
from workflows.messages import translatable


def infer(ctx: InferContext) -> dict[str, ArtifactInfo]:
    info = ctx.inputs["input_ds"]
    return {"train_ds": info, "test_ds": info}


def check(ctx: InferContext) -> list:
    total = ctx.params["train_size"] + ctx.params["test_size"]
    if total <= 1 + 1e-9:
        return []
    return [
        translatable(
            "train_size + test_size is %(total)s; it must not exceed 1", total=f"{total:g}"
        )
    ]


def split_indices(rows: int, train_size: float, test_size: float, seed: int, shuffle: bool):
    """(train, test) row positions; identical at every party for the same arguments."""
    n_test = math.ceil(test_size * rows)
    n_train = math.floor(train_size * rows)
    if n_train == 0 or n_test == 0:
        raise ValueError(
            translatable(
                "%(rows)s rows give %(train)s train and %(test)s test rows",
                rows=rows,
                train=n_train,
                test=n_test,
            )
        )
    if not shuffle:
        return np.arange(n_train), np.arange(n_train, n_train + n_test)
    permutation = np.random.RandomState(seed).permutation(rows)
    return permutation[n_test : n_test + n_train], permutation[:n_test]


def run(ctx: RunContext) -> None:
    info, p = ctx.inputs["input_ds"].info, ctx.params
    rows = aligned_rows(ctx, "input_ds")
    ctx.progress(10)
    args = rows, p["train_size"], p["test_size"], p["random_state"], p["shuffle"]
    parties = ctx.here(info.parties)
    for index, party in enumerate(parties):
        # Each party draws the same split from the shared seed and the public row count.
        train, test = ctx.at(party, split_indices, *args)
        data = ctx.inputs["input_ds"]
        ctx.write_table_parts("train_ds", party, ctx.at(party, data.take, party, train))
        ctx.write_table_parts("test_ds", party, ctx.at(party, data.take, party, test))
        ctx.progress(10 + 90 * (index + 1) / len(parties))
    train, test = split_indices(*args)  # public: the same at every party
    ctx.log(
        translatable(
            "split %(rows)s rows into %(train)s train and %(test)s test rows",
            rows=rows,
            train=len(train),
            test=len(test),
        )
    )


COMPONENT = Component(
    domain="data_prep",
    name="train_test_split",
    version="1.0.0",
    category="data_prep",
    label=_("Train/test split"),
    description=_("Split rows at random into a train and a test set, consistently at every party."),
    inputs=(table_port("input_ds", _("Table")),),
    outputs=(Port("train_ds", TABLES, _("Train set")), Port("test_ds", TABLES, _("Test set"))),
    params=(
        FloatParam(
            name="train_size",
            default=0.75,
            minimum=0,
            maximum=1,
            exclusive_minimum=True,
            exclusive_maximum=True,
            help=_("Fraction of rows in the train set."),
        ),
        FloatParam(
            name="test_size",
            default=0.25,
            minimum=0,
            maximum=1,
            exclusive_minimum=True,
            exclusive_maximum=True,
            help=_("Fraction of rows in the test set."),
        ),
        IntParam(name="random_state", default=1024, minimum=0, maximum=2**32 - 1, help=_("Seed.")),
        BoolParam(name="shuffle", default=True, help=_("Shuffle rows before splitting.")),
    ),
    infer=infer,
    check=check,
    run=run,
    disclosure=disclose(
        train_ds=KEPT_BY_HOLDERS,
        test_ds=KEPT_BY_HOLDERS,
        # Which rows land in each set: aggregates of them differ from run to run.
        shaping=("train_size", "test_size", "random_state", "shuffle"),
    ),
)
