"""What the READMEs tell an operator to type exists: `manage.py node` actions and their options,
and every PRIVPAD_ variable they name."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from console.nodes.management.commands.node import Command

ROOT = Path(__file__).resolve().parents[2]
READMES = [ROOT / "README.md", ROOT / "benchmarks" / "README.md"]


def node_actions() -> dict[str, argparse.ArgumentParser]:
    """The `node` command's actions and their parsers, as `manage.py node` builds them."""
    parser = Command().create_parser("manage.py", "node")
    [actions] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions.choices)


def test_every_node_command_the_readme_shows_exists_with_its_options():
    actions = node_actions()
    text = (ROOT / "README.md").read_text()
    shown = re.findall(r"(?:manage\.py |`)node ([a-z-]+)([^`\n#]*)", text)
    assert len(shown) > 10, "no commands found: the pattern no longer matches the README"
    for action, rest in shown:
        assert action in actions, f"README shows `manage.py node {action}`, which does not exist"
        options = {o for a in actions[action]._actions for o in a.option_strings}
        for option in re.findall(r"(?<!\w)--[a-z-]+", rest):
            assert option in options, f"README shows `node {action} {option}`: no such option"


def test_every_privpad_variable_the_readmes_name_is_read_by_the_code():
    code = "\n".join(
        path.read_text()
        for package in ("console", "workflows", "core", "benchmarks")
        for path in (ROOT / package).rglob("*.py")
    )
    read = set(re.findall(r"\"(PRIVPAD_[A-Z0-9_]+)\"", code))
    for readme in READMES:
        named = set(re.findall(r"PRIVPAD_[A-Z0-9_]+", readme.read_text()))
        assert named - read == set(), f"{readme.name} names variables no code reads"


def test_every_management_command_the_readmes_show_exists():
    from django.core.management import get_commands

    for readme in [*READMES, ROOT / ".env.example"]:
        shown = set(re.findall(r"manage\.py ([a-z_]+)", readme.read_text()))
        assert shown - set(get_commands()) == set(), f"{readme.name} shows unknown commands"
