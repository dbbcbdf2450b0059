"""A precision plan's log sentence: the engine's English reason, worded again in the reader's
language from the plan's figures (`workflows.components.precision_words`)."""

from __future__ import annotations

import pytest

from core.mpc.precision import plan_precision
from workflows.components.precision_words import plan_reason
from workflows.messages import render, stored_text

PLANS = [
    {"max_abs": 0.5, "products": 1},  # capped at FM64's default
    {"max_abs": 1e6, "products": 1},  # fewer bits than the default
    {"max_abs": 3.0, "products": 0},  # no products
    {"max_abs": 1.0, "products": 1, "protocol": "ABY3"},  # a truncation margin
    {"max_abs": 3.1e5, "products": 2},  # FM64 cannot hold it: FM128, and why
    {"max_abs": 1e12, "products": 1, "field": "FM128"},
    {"max_abs": 1.5 * 2.0**16, "products": 2},  # FM64 would leave only 1 fraction bit
    {"max_abs": 1.5 * 2.0**25, "products": 1},  # FM64 would leave no fraction bits
    {"max_abs": 3.0, "products": 2},  # chained products (plural)
]


@pytest.mark.parametrize("kwargs", PLANS)
def test_in_english_the_log_sentence_is_the_engines_reason(kwargs):
    plan = plan_precision(**kwargs)
    assert render(stored_text(plan_reason(plan)), "en") == plan.reason


def test_in_chinese_the_log_sentence_has_no_english_words_left():
    plan = plan_precision(3.1e5, products=2)
    assert plan.field == "FM128"
    assert plan.fm64_bits is not None
    text = render(stored_text(plan_reason(plan)), "zh-hans")
    for english in ("fraction bits", "inputs up to", "chained product", "cannot hold", "slower"):
        assert english not in text, text
    assert text.startswith("FM128"), text
