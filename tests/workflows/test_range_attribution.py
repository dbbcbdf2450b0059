"""Whose failure an engine range refusal is, and what each party reads of it
(`workflows.components.secure.range_failure`, `workflows.redaction.range_public`); no database.

The rule: no input named (a plan no precision holds) -> the party with the largest inputs; a
value derived from one party's inputs only -> that party; from several parties' inputs -> no
party's, one text naming the parties and nothing of their columns. A party's own failure
carries its columns and bound for its users, and for everyone else only the party's name.
"""

from __future__ import annotations

import numpy as np
import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy

import core
from core.device import runtime
from core.errors import PartyFailure, RangeError
from tests.workflows.helpers import warning_context
from workflows import redaction
from workflows.components.checks import CheckFailed
from workflows.components.secure import (
    PartyBounds,
    column_bounds,
    data_failure,
    range_failure,
    warn_about,
)
from workflows.messages import render, stored_text

WHAT = "SS-LR training"


def bounds(party: str, columns, bound: float, unscaled=(), here: bool = True) -> PartyBounds:
    kept = tuple(unscaled) if here else None
    return PartyBounds(party, tuple(columns), bound, 300, bool(unscaled), kept)


ALICE = bounds("alice", ["income", "age"], 2.0**18, ["income", "age"])
BOB = bounds("bob", ["basket_total"], 2.0**50, ["basket_total"])
LABEL = bounds("alice", ["y"], 1.0)
PARTIES = [ALICE, BOB, LABEL]


def plan_error() -> RangeError:
    return RangeError("plan_precision", 2.0**27, "values up to 1.1e+15 need 51 integer bits")


def refused(error: RangeError, given=PARTIES) -> tuple[str, str, str]:
    """(party, full, public) of the failure, as the executor records it."""
    failure = range_failure(error, given, WHAT)
    party = failure.party if isinstance(failure, PartyFailure) else ""
    inner = failure.error if isinstance(failure, PartyFailure) else failure
    assert isinstance(inner, CheckFailed), inner
    return party, english(inner.message), english(inner.public)


def english(message) -> str:
    """A message as an English reader reads it once stored."""
    return render(stored_text(message), "en")


def public_text(party: str, computed: bool = False) -> str:
    return english(redaction.range_public(party, WHAT, computed=computed))


def assert_nothing_of_bobs(text: str) -> None:
    for detail in ("basket_total", "2^50", "1.1e+15", "2^27", "51 integer"):
        assert detail not in text, (detail, text)


def test_a_plan_no_precision_holds_is_the_failure_of_the_party_with_the_largest_inputs():
    party, full, public = refused(plan_error())
    assert party == "bob"
    assert full.startswith("the values of bob's basket_total are out of the range SS-LR")
    assert "operation plan_precision, safe bound 2^27" in full
    assert full.endswith("Fix: add a scaler (Scaler, before this node) for bob's basket_total.")
    assert "alice" not in full  # bob's users read about bob's data only
    assert public == public_text("bob")
    assert public == (
        "SS-LR training: a value of bob's data is outside the range the fixed-point encoding "
        "can hold; only bob's users see which column and how to fix it."
    )
    assert_nothing_of_bobs(public)


def test_a_refused_input_is_its_owners_failure_whatever_the_others_bounds():
    """alice's label refused at sharing time: hers, though bob's inputs are far larger."""
    error = RangeError("SPU input", 4.0, "3 of 300 element(s) lie outside", label="alice's y")
    party, full, public = refused(error)
    assert party == "alice"
    assert "alice's y" in full
    assert "3 of 300" in full  # the engine's detail, for alice's users
    assert public == public_text("alice")
    assert "alice's y" not in public
    assert "3 of 300" not in public


def test_a_value_computed_from_one_partys_inputs_alone_is_that_partys():
    error = RangeError("rsqrt", 2.0**16, "an argument left the domain", label="bob's basket_total")
    party, full, public = refused(error)
    assert party == "bob"
    assert full.startswith(
        "SS-LR training stopped at a range check on values computed from bob's basket_total "
        "(operation rsqrt, safe bound 2^16"
    )
    assert public == public_text("bob", computed=True)
    assert "computed from bob's data" in public
    assert_nothing_of_bobs(public)


def test_a_value_computed_from_several_parties_inputs_is_nobodys_and_names_no_column():
    label = "alice's income, age, alice's y, bob's basket_total"
    error = RangeError("SS-LR weights", 64.0, "a weight left [-64, 64]", label=label, fix="lower")
    party, full, public = refused(error)
    assert party == ""
    assert full == public
    assert full == (
        "SS-LR training stopped at a range check (operation SS-LR weights) on values computed "
        "from the data of alice and bob: a value is outside the range this operation can "
        "compute on in fixed point. Fix: lower."
    )
    for detail in ("income", "age", "64", "alice's y"):
        assert detail not in full, detail
    assert_nothing_of_bobs(full)


@pytest.mark.parametrize(
    "label",
    [
        "bob's basket_total and 3 more",  # the engine lists only the first inputs
        "input from carol",  # no input of this component
    ],
)
def test_a_label_that_does_not_show_one_partys_inputs_alone_names_no_column(label):
    party, full, public = refused(RangeError("exp", 11.09, "too large", label=label))
    assert party == ""
    assert full == public
    assert "basket_total" not in full
    assert "computed from the data of" in full


def test_an_input_label_is_matched_whole_not_as_a_prefix_of_another_partys():
    """bob's column `income` does not make alice's `income` input bob's."""
    alices = bounds("alice", ["income"], 4.0)
    bobs = bounds("bob", ["income, age"], 2.0**40)
    error = RangeError("SPU input", 4.0, "out", label="alice's income")
    assert range_failure(error, [alices, bobs], WHAT).party == "alice"
    error = RangeError("SPU input", 4.0, "out", label="bob's income, age")
    assert range_failure(error, [alices, bobs], WHAT).party == "bob"


def test_a_tie_goes_to_the_first_party_in_order():
    alice = bounds("alice", ["a"], 2.0**50, ["a"])
    bob = bounds("bob", ["b"], 2.0**50, ["b"])
    assert range_failure(plan_error(), [alice, bob], WHAT).party == "alice"
    assert range_failure(plan_error(), [bob, alice], WHAT).party == "bob"


def test_where_the_partys_details_are_not_held_its_failure_carries_the_public_text_only():
    """A network run's other processes never hold bob's verdicts: they record bob's failure
    with the public text, the same one bob's process gives the others."""
    elsewhere = bounds("bob", ["basket_total"], 2.0**50, ["basket_total"], here=False)
    failure = range_failure(plan_error(), [ALICE, elsewhere, LABEL], WHAT)
    assert failure.party == "bob"
    assert failure.error.message == failure.error.public == redaction.range_public("bob", WHAT)


def test_no_input_at_all_names_nobody():
    failure = data_failure([], WHAT, lambda top: "never built")
    assert isinstance(failure, CheckFailed)
    assert str(failure) == "SS-LR training has no input to compute on"


def test_the_public_texts_read_in_chinese():
    what = gettext_lazy("SS-LR training")
    with translation.override("en"):  # whatever the writer's language
        public = stored_text(redaction.range_public("bob", what))
        computed = stored_text(redaction.range_public("bob", what, computed=True))
    for text in (render(public, "zh-hans"), render(computed, "zh-hans")):
        assert text.startswith("逻辑回归训练：")
        assert "bob 的用户" in text, text
        assert "定点编码" in text, text


def test_measured_here_a_partys_unscaled_columns_are_at_hand_with_the_shared_verdict():
    """Embedded (a simulation): every party runs here, so its columns' names are read here;
    what every party receives is the bound, the row count and the verdict."""
    with runtime.using(runtime.Simulation(["alice", "bob"])):
        matrix = core.PYU("alice")(lambda: np.array([[5.0e6, 0.5], [-3.0, 0.25]]))()
        measured = column_bounds("alice", ["income", "ratio"], matrix)
        label = column_bounds("alice", ["y"], matrix, features=False)
    assert measured == PartyBounds("alice", ("income", "ratio"), 2.0**23, 2, True, ("income",))
    assert english(measured.named_columns()) == "alice's income"
    assert (label.has_unscaled, label.unscaled) == (False, ())
    assert english(label.named_columns()) == "alice's y"


def test_a_warning_about_a_party_is_recorded_in_full_only_where_its_details_are(tmp_path):
    seen: list[tuple[str, str | None]] = []
    ctx = warning_context(tmp_path, seen)
    warn_about(ctx, "bob", "features not scaled at bob: basket_total ...")
    warn_about(ctx, "bob", None)  # a network run's other processes
    assert seen == [
        ("features not scaled at bob: basket_total ...", "bob"),
        (redaction.warning_public("bob"), "bob"),
    ]
