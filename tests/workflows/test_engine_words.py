"""The engine's fixed advice, marked for translation in `workflows.components.engine_words`,
is exactly the advice the engine gives, and reads in the reader's language inside a range
failure."""

from __future__ import annotations

import ast
from pathlib import Path

from core.errors import DEFAULT_RANGE_FIX, RangeError
from core.mpc.kernels.domains import EXP_FIX, NORMALISED_FIX
from workflows.components.engine_words import ENGINE_FIXES, engine_fix
from workflows.components.secure import PartyBounds, range_failure
from workflows.messages import render, stored_text

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
