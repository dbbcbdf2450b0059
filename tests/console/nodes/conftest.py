"""This test installation as a node: its identity files in a temporary directory."""

from __future__ import annotations

import pytest

from console.nodes import pairing
from console.nodes.identity import make_key_and_certificate
from console.nodes.models import Node, PeerRoute


@pytest.fixture
def identity_dir(settings, tmp_path):
    settings.NODE_IDENTITY_DIR = tmp_path / "node-identity"
    return settings.NODE_IDENTITY_DIR


@pytest.fixture
def alice_is_this_node(alice, identity_dir) -> Node:
    """The `alice` node becomes this installation's own node (`node init`)."""
    return pairing.init_node("alice", "127.0.0.1:7443")


@pytest.fixture
def route_to_zed(alice_is_this_node) -> PeerRoute:
    """A paired peer `zed` whose service is not running (nothing listens at its address)."""
    _, cert = make_key_and_certificate("zed")
    return pairing.create_route(
        {"name": "zed", "address": "127.0.0.1:9", "certificate": cert, "version": "0.1.0"},
        origin=PeerRoute.Origin.ACCEPTED,
    )


@pytest.fixture
def admin_client(client, platform_admin):
    client.force_login(platform_admin)
    return client
