"""The canvas model (static/console/js/canvas/model.js) on its own, run by Node.

The model is pure data (no DOM, no X6), so its rules (typed connections with reasons, cycles,
needs-configuration, inline value checks, undo/redo, copy/paste, tidy, JSON round trip) are
checked here case by case, quicker and more thoroughly than through a browser. The cases live in
canvas_model_cases.mjs; each reports null (passed) or its failure message.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
MODEL = ROOT / "static/console/js/canvas/model.js"
CASES = Path(__file__).with_name("canvas_model_cases.mjs")
NODE = shutil.which("node")


@pytest.fixture(scope="module")
def results() -> dict:
    if NODE is None:
        pytest.skip("node is not installed: the canvas model cases need Node.js")
    done = subprocess.run(
        [NODE, str(CASES), str(MODEL)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


CASE_NAMES = [
    "ids are readable and unique",
    "connections are checked with reasons",
    "keyboard: connection options and arrow navigation",
    "needs configuration and inline problems",
    "undo and redo restore snapshots",
    "copy and paste keep internal edges with new ids",
    "tidy lays out by depth and JSON round trips",
    "malformed documents are refused",
]


def test_every_case_is_run(results):
    assert sorted(results) == sorted(CASE_NAMES)


@pytest.mark.parametrize("case", CASE_NAMES)
def test_model_case(results, case):
    assert results[case] is None, f"{case}: {results[case]}"
