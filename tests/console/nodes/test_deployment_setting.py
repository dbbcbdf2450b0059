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
