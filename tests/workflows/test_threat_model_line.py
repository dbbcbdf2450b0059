"""The threat-model line of a node computing on SEMI2K shares: whom its parties must trust.

Each source of Beaver triples (`core.device.spu_config`) is stated in the node's log in words
that match the engine's docstrings (`core.mpc.protocols.semi2k`), in English and zh-hans:
embedded (the console's own process), a trusted first party, a dealer node. The network run of
the demo pipeline checks the first-party line at every party
(`tests/workflows/network/test_party_network.py`).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import core
from core.device import runtime
from tests.workflows.helpers import run_component, table
from workflows.components.secure import correlation_source
from workflows.components.trust_words import threat_model
from workflows.messages import render

SEMI2K = {"protocol": "SEMI2K"}


def spu_with(runtime_config: dict) -> core.SPU:
    return core.SPU({"nodes": ["alice", "bob"], "runtime_config": SEMI2K | runtime_config})


@pytest.fixture
def simulation():
    with runtime.using(runtime.Simulation(["alice", "bob", "dealer"])) as cluster:
        yield cluster


def test_an_embedded_node_says_every_party_trusts_the_consoles_operator(tmp_path):
    rng = np.random.default_rng(3)
    given = {
        "alice": pd.DataFrame({"a": rng.normal(size=40)}),
        "bob": pd.DataFrame({"b": rng.normal(size=40)}),
    }
    data = table(tmp_path / "in", given, {})
    logs: list[str] = []
    run_component(
        tmp_path, "stats/pearson", {"features": ["a", "b"]}, {"input_ds": data}, logs=logs
    )
    lines = [line for line in logs if line.startswith("threat model of ")]
    assert lines == [
        "threat model of Pearson correlation: SEMI2K secret sharing among alice and bob, "
        "semi-honest parties; the Beaver triples come from a dealer inside this console's own "
        "process, so every party trusts the console's operator (embedded deployment)"
    ]


def test_a_trusted_first_party_is_named_with_what_it_could_see(simulation):
    line = threat_model(
        spu_with({"beaver_type": "TrustedFirstParty", "trusted_party": "bob"}), "SS-LR"
    )
    english = render(line.stored(), "en")
    assert english.startswith("threat model of SS-LR: SEMI2K secret sharing among alice and bob")
    assert "bob is the trusted first party: it generates every Beaver triple" in english
    assert "could recover every value that is multiplied or compared" in english
    assert "trust it not to look" in english
    chinese = render(line.stored(), "zh-hans")
    assert "bob 是受信任的第一方" in chinese
    assert "信任它不去查看" in chinese
    assert "threat model" not in chinese


def test_a_dealer_node_is_named_and_must_collude_with_no_party(simulation):
    line = threat_model(
        spu_with({"beaver_type": "TrustedThirdParty", "ttp_party": "dealer"}), "SS-LR"
    )
    english = render(line.stored(), "en")
    assert "the Beaver triples come from the dealer node dealer" in english
    assert "sees no input, share or result and must collude with no party" in english
    chinese = render(line.stored(), "zh-hans")
    assert "发牌节点 dealer" in chinese
    assert "不得与任何一方合谋" in chinese


def test_the_embedded_line_reads_in_chinese(simulation):
    chinese = render(threat_model(spu_with({}), "SS-LR").stored(), "zh-hans")
    assert chinese.startswith("SS-LR的威胁模型：alice和bob之间的 SEMI2K 秘密分享")
    assert "各方都信任该控制台的运维者（嵌入式部署）" in chinese


@pytest.mark.parametrize(
    ("dealers", "source"),
    [
        ([], {"beaver_type": "TrustedFirstParty"}),
        (["dealer"], {"beaver_type": "TrustedThirdParty", "ttp_party": "dealer"}),
    ],
)
def test_a_network_run_takes_the_clusters_dealer_node_else_the_first_party(dealers, source):
    deployment = SimpleNamespace(simulation=False, dealers=dealers)
    with runtime.using(deployment, close=False):
        assert correlation_source() == source


def test_an_embedded_run_uses_the_simulations_dealer_thread(simulation):
    assert correlation_source() == {}
