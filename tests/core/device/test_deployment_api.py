"""`init`'s production-mode arguments refused before any link is made (no process needed)."""

from __future__ import annotations

import pytest

import core as sf
from core.errors import ConfigError, PartyError

CONFIG = {
    "parties": {"alice": {"address": "127.0.0.1:1"}, "bob": {"address": "127.0.0.1:2"}},
    "self_party": "alice",
}


def test_parties_that_differ_from_the_cluster_config_are_named():
    with pytest.raises(PartyError, match=r"differ from cluster_config's \['alice', 'bob'\]"):
        sf.init(["alice", "carol"], cluster_config=CONFIG, insecure_plaintext=True)


@pytest.mark.parametrize(
    "option", [{"tls": {"key": "k", "cert": "c"}}, {"insecure_plaintext": True}]
)
def test_network_options_are_refused_in_a_simulation(option):
    with pytest.raises(ConfigError, match="apply to production mode"):
        sf.init(parties=["alice", "bob"], **option)


def test_tls_and_the_insecure_flag_exclude_each_other():
    with pytest.raises(ConfigError, match="not both"):  # refused before the files are read
        sf.init(cluster_config=CONFIG, tls={"key": "k", "cert": "c"}, insecure_plaintext=True)


def test_a_dealer_serves_only_in_a_deployment():
    sf.init(parties=["alice", "bob"], address="local")
    try:
        with pytest.raises(ConfigError, match="serve_dealer runs in a deployment"):
            sf.serve_dealer()
    finally:
        sf.shutdown()


def test_an_spu_gives_every_node_an_address_or_none():
    """A deployment honours a cluster_def's node addresses only when every node has one; a
    partial list would be ignored in silence, so it is refused (in a simulation too)."""
    nodes = [{"party": "alice", "address": "127.0.0.1:61000"}, {"party": "bob"}]
    sf.init(parties=["alice", "bob"], address="local")
    try:
        with pytest.raises(ConfigError, match=r"addresses for \['alice'\] but not for \['bob'\]"):
            sf.SPU({"nodes": nodes})
    finally:
        sf.shutdown()
