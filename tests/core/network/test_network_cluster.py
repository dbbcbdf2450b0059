"""The engine over the network: one OS process per party, gRPC with mutual TLS on loopback.

Each test starts the parties as processes running the same program (`net_harness`) and
compares what every party ends with against the simulation or plaintext.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from net_harness import results, run_cluster

pytestmark = pytest.mark.timeout(120)
README = Path(__file__).resolve().parents[3] / "README.md"


def seed_example() -> str:
    """The README's engine example, with its simulation `init` line swapped for production."""
    text = README.read_text()
    block = re.search(r"```python\n(import core as sf\n.*?)```", text, re.S).group(1)
    init_line = 'sf.init(parties={"Alice", "Bob", "Carol"}, address="local")\n'
    assert init_line in block
    return block.replace(init_line, "init()\n")


@pytest.mark.parametrize("tls", ["pinned", "ca"])
def test_the_seed_example_prints_6000_in_each_of_three_processes(tmp_path, tls):
    outcomes = run_cluster(seed_example(), ["Alice", "Bob", "Carol"], tmp_path, tls=tls)
    assert results(outcomes) == {"Alice": 6000.0, "Bob": 6000.0, "Carol": 6000.0}
