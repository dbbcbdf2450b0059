"""A refusal raised at the receiver of predictions counts the receiver's predictions: the count
is the receiver's alone (its predictions are), everyone else reads the refusal without it.

Tried as bob would: alice receives the scores of a model bob trained; bob reads the node's
message (its public text, `workflows.redaction`), alice her full one.
"""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from core.device import runtime
from core.errors import PartyFailure
from workflows.components import secure
from workflows.components.checks import CheckFailed, check_predictions
from workflows.redaction import describe


def refusal(scores, reg_type: str = "logistic") -> CheckFailed:
    check = lambda: check_predictions(np.asarray(scores), reg_type, "real", "alice", "")  # noqa: E731
    with runtime.using(runtime.Simulation(["alice", "bob"])), pytest.raises(PartyFailure) as caught:
        secure.at_party("alice", check)
    assert isinstance(caught.value.error, CheckFailed)
    return caught.value.error


def test_bob_does_not_learn_how_many_of_alices_predictions_overflowed():
    error = describe(refusal([0.2, 191149220.67, -45981397.07, 0.9]), "predict", "alice")
    assert str(error.full).startswith("2 of 4 predictions at alice lie outside [0, 1]")
    assert str(error.public).startswith("some predictions at alice lie outside [0, 1]")
    assert "2 of 4" not in str(error.public)
    assert "Fix:" in str(error.public)
    # Stored as msgid + params: no param of the public message carries the count either.
    assert error.public.params == {"party": "alice", "why": error.public.params["why"]}


def test_nor_how_many_are_not_numbers():
    error = describe(refusal([0.2, np.nan], "linear"), "predict", "alice")
    assert str(error.full).startswith("1 of 2 predictions at alice are not numbers")
    assert str(error.public).startswith("some predictions at alice are not numbers")
    assert "1" not in json.dumps(error.public.stored())


def test_a_refusal_outside_any_party_is_the_same_for_everyone():
    error = describe(CheckFailed("4 rows, fewer than 5", public="hidden"), "split")
    assert error.full == error.public == "4 rows, fewer than 5"


def test_the_public_text_survives_pickling():
    copy = pickle.loads(pickle.dumps(CheckFailed("2 of 4 rows", public="some rows")))
    assert (str(copy), copy.public) == ("2 of 4 rows", "some rows")
