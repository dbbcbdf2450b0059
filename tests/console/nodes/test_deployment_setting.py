"""PRIVPAD_DEPLOYMENT: embedded by default; anything but embedded or network is refused."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from console.env import envchoice


def test_it_defaults_to_embedded(monkeypatch):
    monkeypatch.delenv("PRIVPAD_DEPLOYMENT", raising=False)
    assert envchoice("PRIVPAD_DEPLOYMENT", "embedded", ["embedded", "network"]) == "embedded"


def test_it_reads_network_whatever_the_case(monkeypatch):
    monkeypatch.setenv("PRIVPAD_DEPLOYMENT", " Network ")
    assert envchoice("PRIVPAD_DEPLOYMENT", "embedded", ["embedded", "network"]) == "network"


def test_it_names_a_bad_value_and_the_choices(monkeypatch):
    monkeypatch.setenv("PRIVPAD_DEPLOYMENT", "cluster")
    with pytest.raises(ImproperlyConfigured, match="'cluster' is not one of embedded, network"):
        envchoice("PRIVPAD_DEPLOYMENT", "embedded", ["embedded", "network"])


def test_a_network_node_without_identity_is_warned_about(settings, identity_dir):
    from console.nodes.checks import network_node_has_identity

    settings.PRIVPAD_DEPLOYMENT = "network"
    (warning,) = network_node_has_identity()
    assert warning.id == "privpad.nodes.W001"
    assert "manage.py node init" in warning.hint


def test_an_embedded_console_needs_no_identity(settings, identity_dir):
    from console.nodes.checks import network_node_has_identity

    settings.PRIVPAD_DEPLOYMENT = "embedded"
    assert network_node_has_identity() == []


def test_a_network_node_with_identity_passes(settings, alice_is_this_node):
    from console.nodes.checks import network_node_has_identity

    settings.PRIVPAD_DEPLOYMENT = "network"
    assert network_node_has_identity() == []


def test_a_network_node_without_engine_address_is_warned_about(settings):
    from console.nodes.checks import network_node_has_engine_address

    settings.PRIVPAD_DEPLOYMENT, settings.PRIVPAD_ENGINE_ADDRESS = "network", ""
    (warning,) = network_node_has_engine_address()
    assert warning.id == "privpad.nodes.W005"
    settings.PRIVPAD_ENGINE_ADDRESS = "alice.example.org:7444"
    assert network_node_has_engine_address() == []
    settings.PRIVPAD_DEPLOYMENT, settings.PRIVPAD_ENGINE_ADDRESS = "embedded", ""
    assert network_node_has_engine_address() == []
