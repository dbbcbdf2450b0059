"""The engine's fixed advice, marked for translation in `workflows.components.engine_words`,
is exactly the advice the engine gives, and reads in the reader's language inside a range
failure."""

from __future__ import annotations

import ast
import pickle
import re
import string
from pathlib import Path

import numpy as np
import pytest

from core.device.spu import secondhand_refusal
from core.errors import DEFAULT_RANGE_FIX, RangeError
from core.mpc.fixedpoint import FixedPoint
from core.mpc.kernels.domains import EXP_FIX, NORMALISED_FIX
from core.range_problems import PROBLEMS, RangeProblem
from workflows.components.engine_words import (
    ENGINE_FIXES,
    ENGINE_PROBLEMS,
    engine_fix,
    engine_problem,
)
from workflows.components.secure import PartyBounds, range_failure
from workflows.messages import Message, render, stored_text

CORE = Path(__file__).resolve().parents[2] / "core"


def literal_fixes() -> set[str]:
    """Every `fix="..."` the engine's code passes as a literal."""
    found = set()
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            given = isinstance(node, ast.keyword) and node.arg == "fix"
            if given and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                found.add(node.value.value)
    return found


def test_every_fix_the_engine_gives_is_marked_for_translation():
    given = literal_fixes() | {DEFAULT_RANGE_FIX, NORMALISED_FIX, EXP_FIX}
    assert len(given) >= 8
    assert given - ENGINE_FIXES == set()


def test_an_unknown_fix_is_shown_as_it_is():
    assert engine_fix("ask the operator") == "ask the operator"


def test_the_engines_fix_in_a_joint_range_failure_reads_in_chinese():
    bounds = [
        PartyBounds("alice", ("income",), 4.0, 300, False, ()),
        PartyBounds("bob", ("spend",), 8.0, 300, False, ()),
    ]
    fix = "the training diverges (lower learning_rate) or the features are too large (scale them)"
    label = "alice's income, bob's spend"
    error = RangeError("SS-LR weights", 64.0, "a weight left", label=label, fix=fix)
    failure = range_failure(error, bounds, "SS-LR training")
    text = stored_text(failure.message)
    assert render(text, "en").endswith(f"Fix: {fix}.")
    assert render(text, "zh-hans").endswith(
        "修复：训练发散（请降低 learning_rate）或特征过大（请对其做缩放）。"
    )


# ----- the engine's problem (`core.range_problems`) -----------------------------------------
SAMPLE_PARAMS = {"plan_too_large": {"integer_bits": 51, "products": 0, "wider": "FM128"}}


def sample_problem(code: str) -> RangeProblem:
    """A problem of `code` with a figure for every field of its English template."""
    names = {name for _, name, _, _ in string.Formatter().parse(PROBLEMS[code]) if name}
    params = {name: f"<{name}>" for name in names} | SAMPLE_PARAMS.get(code, {})
    return RangeProblem(code, **params)


@pytest.mark.parametrize("code", sorted(PROBLEMS))
def test_every_problem_the_engine_gives_reads_in_both_languages(code):
    problem = sample_problem(code)
    message = engine_problem(problem)
    assert isinstance(message, Message)
    text = stored_text(message)
    english, chinese = render(text, "en"), render(text, "zh-hans")
    assert english == str(problem)
    assert chinese != english
    assert not re.search(r"[a-z]{4,}", re.sub(r"<\w+>|FM\d+|e\^x|SS-LR", "", chinese)), chinese
    for name in problem.params:
        if isinstance(problem.params[name], str) and problem.params[name].startswith("<"):
            assert f"<{name}>" in chinese


def test_the_table_of_problems_and_of_messages_are_the_same():
    assert set(ENGINE_PROBLEMS) == set(PROBLEMS)


def test_the_plans_optional_parts_read_in_chinese():
    problem = RangeProblem(
        "plan_too_large",
        max_abs="1e+30",
        integer_bits=101,
        products=2,
        min_fraction_bits=8,
        field="FM64",
        ring_bits=64,
        wider="FM128",
    )
    text = stored_text(engine_problem(problem))
    assert render(text, "en") == (
        "values up to 1e+30 need 101 integer bits and 2 chained products of them, leaving "
        "fewer than 8 fraction bits in FM64's 64-bit ring (FM128 would hold them)"
    )
    assert render(text, "zh-hans") == (
        "最大为 1e+30 的值需要 101 位整数位以及它们的 2 次连乘，使 FM64 的 64 位环中剩下的"
        "小数位少于 8 位（FM128 可以容纳它们）"
    )


def test_the_engines_own_refusal_carries_its_code_and_keeps_its_english_text():
    with pytest.raises(RangeError) as refused:
        FixedPoint(16).encode(np.array([1.0, 2.0**60]), what="SPU input", secret=True)
    problem = refused.value.problem
    assert problem.code == "secret_outside_encoding"
    assert str(problem) == (
        "a value is outside the fixed-point range with 16 fraction bits in FM64 "
        "(1 of 2 element(s) too large)"
    )
    assert str(problem) in str(refused.value)
    copy = pickle.loads(pickle.dumps(refused.value))
    assert (copy.problem.code, str(copy)) == (problem.code, str(refused.value))
    assert render(stored_text(engine_problem(problem)), "zh-hans") == (
        "有一个值超出了 FM64 中 16 位小数的定点数范围（2 个元素中有 1 个过大）"
    )


class ForgedProblem(str):
    """What a peer (or a newer engine) could hand over: a text with a code attached."""

    code = "secret_outside_encoding"
    params: dict = {}


@pytest.mark.parametrize(
    "problem",
    [
        "a newer engine's words",
        ForgedProblem("a peer's words"),
        "unknown code",
    ],
)
def test_a_problem_not_in_the_engines_table_is_shown_as_its_text(problem):
    if problem == "unknown code":
        problem = RangeProblem("owner_check_failed")
        problem.code = "rm_rf"
    assert engine_problem(problem) == str(problem)


def test_a_problem_with_params_that_do_not_match_its_code_is_shown_as_its_text():
    problem = RangeProblem("declared_invalid", interval="[1, 0]")
    problem.params = {"interval": "[1, 0]", "extra": "x"}
    assert engine_problem(problem) == str(problem)
    problem.params = {"interval": ["nested"]}
    assert engine_problem(problem) == str(problem)
    with pytest.raises(ValueError):
        RangeProblem("no_such_code")
    with pytest.raises(TypeError):
        RangeProblem("declared_invalid", interval=object())


def test_the_parties_that_did_not_own_a_refused_input_read_its_problem_in_chinese():
    refusal = secondhand_refusal("SPU input", 8.0, "bob's basket_total", DEFAULT_RANGE_FIX)
    assert refusal.problem.code == "owner_check_failed"
    text = stored_text(engine_problem(refusal.problem))
    assert render(text, "zh-hans") == "该输入未通过其所有者的范围检查"
    assert render(text, "en") == "the input failed its owner's range check"
