"""`manage.py node` as an operator meets it: a fresh installation, a new route, the checks."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from console.nodes.management.commands.node import Command
from console.nodes.models import Invitation

ROOT = Path(__file__).resolve().parents[3]


def node(*args: str) -> tuple[str, str]:
    """(stdout, stderr) of `manage.py node ARGS`, run as from the command line (where Django
    runs the system checks a command asks for; `call_command` skips them)."""
    out, err = io.StringIO(), io.StringIO()
    Command(stdout=out, stderr=err).run_from_argv(["manage.py", "node", *args])
    return out.getvalue(), err.getvalue()


def test_show_says_a_route_never_pinged_has_no_latency_yet(route_to_zed):
    shown, _ = node("show")
    line = next(line for line in shown.splitlines() if line.strip().startswith("zed"))
    assert "latency not measured yet" in line
    assert "None" not in line


def test_show_gives_a_measured_latency_in_ms(route_to_zed):
    route_to_zed.latency_ms = 4.2
    route_to_zed.save(update_fields=["latency_ms"])
    assert "4.2 ms" in node("show")[0]


def test_init_does_not_warn_that_the_node_it_creates_has_no_identity(settings, alice, identity_dir):
    settings.PRIVPAD_DEPLOYMENT = "network"
    out, err = node("init", "--name", "alice", "--address", "127.0.0.1:7443")
    assert "Node alice initialised" in out
    assert "no node identity" not in out + err


def test_other_actions_still_run_the_system_checks(settings, route_to_zed):
    settings.PRIVPAD_DEPLOYMENT = "network"
    settings.PRIVPAD_NODE_ROTATION_GRACE_SECONDS = 30 * 86400  # above what rotations accept
    _, err = node("show")
    assert "privpad.nodes.W004" in err


def test_a_fresh_installation_is_told_to_migrate_first(tmp_path):
    """A new data directory has no tables: a clear instruction, not a database traceback."""
    env = {**os.environ, "PRIVPAD_DATA_DIR": str(tmp_path), "PRIVPAD_DEPLOYMENT": "network"}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "node", "init", "--name", "alice", "--address", "h:7443"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "not migrated: run `manage.py migrate` first" in done.stderr
    assert "Traceback" not in done.stderr


def test_invite_refuses_a_lifetime_beyond_a_week(alice_is_this_node):
    with pytest.raises(CommandError, match="--days must be from 1 to 7, not 30"):
        call_command("node", "invite", "--days", "30")
    assert not Invitation.objects.exists()
