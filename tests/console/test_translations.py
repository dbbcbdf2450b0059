"""The Simplified Chinese catalogue is complete, correct in its placeholders, and compiled.

`makemessages` runs on a copy of the sources (the repository is never touched), so a string
marked for translation without a zh-hans translation fails here, naming it. Refresh the
catalogues with `make messages`, translate the new entries, and commit the .po and .mo files.

A string nobody marked never reaches the catalogue, so the modules whose messages users read
(validation, disclosure, checks, services, API views, node pairing, sign-in lockout) are also
read here: a sentence given as a literal or an f-string to an error or a flash message, rather
than through gettext, fails the test with its file and line.
"""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"
DOMAINS = ("django", "djangojs")
# Kept in step with the Makefile's `messages` target.
MAKEMESSAGES_OPTIONS = [
    "--no-obsolete",
    "--ignore=.venv",
    "--ignore=tests",
    "--ignore=var",
    "--ignore=static/vendor/*",
]
SOURCES = ("manage.py", "console", "workflows", "templates", "static/console", "locale")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")
# Modules whose errors and messages are shown to users as they are.
USER_FACING = (
    "workflows/validation.py",
    "workflows/disclosure/*.py",
    "workflows/components/checks.py",
    "workflows/components/params.py",
    "workflows/services.py",
    "workflows/api/*.py",
    "console/*/services.py",
    "console/*/api.py",
    "console/api/*.py",
    "console/nodes/pairing*.py",
    "console/nodes/invitations.py",
    "console/nodes/link/transport.py",
    "console/accounts/lockout.py",
    "console/accounts/twofactor_views.py",
)
# Calls whose text arguments reach users: exceptions the console shows, flash messages.
MESSAGE_CALLS = {
    "APIException",
    "CheckFailed",
    "DecisionError",
    "Http404",
    "HttpResponseBadRequest",
    "HttpResponseForbidden",
    "InvitationError",
    "NodeCallError",
    "NotFound",
    "PairingError",
    "ParamError",
    "ParseError",
    "PermissionDenied",
    "ProjectArchived",
    "Throttled",
    "ValidationError",
    "_field_error",
    "fail",
    "field_error",
}
FLASH_CALLS = {"debug", "info", "success", "warning", "error"}
SENTENCE = re.compile(r"[A-Za-z]{2,}[^A-Za-z_]* [^A-Za-z_]*[A-Za-z]{2,}")


def read_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgctxt, msgid, msgid_plural, msgstr (list), flags; header left
    out."""
    entries, entry, field = [], None, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if entry is not None and entry["msgid"]:
                entries.append(entry)
            entry = None
            continue
        entry = entry or {
            "msgctxt": None,
            "msgid": "",
            "msgid_plural": None,
            "msgstr": [],
            "flags": set(),
        }
        if line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith("msgctxt "):
            field, entry["msgctxt"] = "msgctxt", ast.literal_eval(line[8:])
        elif line.startswith("msgid_plural "):
            field, entry["msgid_plural"] = "msgid_plural", ast.literal_eval(line[13:])
        elif line.startswith("msgid "):
            field, entry["msgid"] = "msgid", ast.literal_eval(line[6:])
        elif line.startswith("msgstr"):
            field = "msgstr"
            entry["msgstr"].append(ast.literal_eval(line.split(" ", 1)[1]))
        elif line.startswith('"'):
            if field == "msgstr":
                entry["msgstr"][-1] += ast.literal_eval(line)
            else:
                entry[field] += ast.literal_eval(line)
    return entries


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_entry_is_translated_and_none_is_fuzzy(domain):
    entries = read_po(CATALOGUES / f"{domain}.po")
    assert len(entries) > 100
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"]) or not e["msgstr"]]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == []
    assert fuzzy == []


@pytest.mark.parametrize("domain", DOMAINS)
def test_translations_keep_every_placeholder(domain):
    wrong = [
        (e["msgid"], text)
        for e in read_po(CATALOGUES / f"{domain}.po")
        for text in e["msgstr"]
        if set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(e["msgid"]))
    ]
    assert wrong == []


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_compiled_catalogue_matches_the_po_file(domain):
    """The committed .mo (what `make run` serves without GNU gettext) is the .po compiled."""
    with (CATALOGUES / f"{domain}.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog
    expected = {}
    for entry in read_po(CATALOGUES / f"{domain}.po"):
        # gettext keys an entry with a context as "context\x04msgid".
        key = (
            entry["msgid"]
            if entry["msgctxt"] is None
            else f"{entry['msgctxt']}\x04{entry['msgid']}"
        )
        if entry["msgid_plural"] is None:
            expected[key] = entry["msgstr"][0]
        else:
            for index, text in enumerate(entry["msgstr"]):
                expected[(key, index)] = text
    compiled = {key: value for key, value in compiled.items() if key != ""}
    assert compiled == expected, "run `make messages` (compilemessages) and commit the .mo"


@pytest.mark.parametrize("domain", DOMAINS)
def test_makemessages_finds_no_string_without_a_translation(domain, tmp_path):
    assert shutil.which("xgettext"), "GNU gettext is missing: `make system-deps` installs it"
    for name in SOURCES:
        source, target = ROOT / name, tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    (tmp_path / "core").symlink_to(ROOT / "core")  # importable, not scanned (no strings)
    command = [sys.executable, "manage.py", "makemessages", "-d", domain, "-l", "zh_Hans"]
    env = os.environ | {"PRIVPAD_DATA_DIR": str(tmp_path / "var")}
    subprocess.run(command + MAKEMESSAGES_OPTIONS, cwd=tmp_path, env=env, check=True)
    fresh = read_po(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / f"{domain}.po")
    missing = [e["msgid"] for e in fresh if not e["msgstr"] or not all(e["msgstr"])]
    fuzzy = [e["msgid"] for e in fresh if "fuzzy" in e["flags"]]
    assert missing == [], "marked strings without a zh-hans translation"
    assert fuzzy == [], "strings whose source changed: check and re-translate them"
    if domain == "django":
        # `workflows.messages.translatable_plural` is a keyword: both forms are extracted.
        plurals = {e["msgid"]: e["msgid_plural"] for e in fresh if e["msgid_plural"]}
        assert plurals["pick at least %(count)s column"] == "pick at least %(count)s columns"


def _literal_text(node: ast.AST) -> str | None:
    """The text of a literal, f-string or literal % values; None for anything else (a call
    to gettext, a variable)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return _literal_text(node.left) or _literal_text(node.right)
    return None


def _is_message_call(func: ast.AST) -> bool:
    if isinstance(func, ast.Attribute):
        if func.attr in FLASH_CALLS:
            return isinstance(func.value, ast.Name) and func.value.id == "messages"
        return func.attr in MESSAGE_CALLS
    return isinstance(func, ast.Name) and func.id in MESSAGE_CALLS


def unmarked_messages(source: str) -> list[tuple[int, str]]:
    """(line, text) of every sentence given to a message call without gettext."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and _is_message_call(node.func)):
            continue
        keywords = [k.value for k in node.keywords if k.arg in ("detail", "message", "public")]
        for argument in [*node.args, *keywords]:
            text = _literal_text(argument)
            if text and SENTENCE.search(text):
                found.append((node.lineno, text))
    return found


def test_the_reader_finds_unmarked_sentences_and_passes_marked_ones():
    source = (
        "raise ValidationError(f'Node {name} is gone.', code='gone')\n"
        "raise field_error('name', 'A name is needed.', 'required')\n"
        "messages.error(request, 'Saved nothing.')\n"
        "raise Http404(_('No such run.'))\n"
        "raise PairingError(gettext('Used %(x)s') % {'x': 1})\n"
        "raise ValidationError(message, code='max_length')\n"
        "logger.error('not for users %s', 1)\n"
    )
    assert [line for line, _ in unmarked_messages(source)] == [1, 2, 3]


@pytest.mark.parametrize("pattern", USER_FACING)
def test_user_facing_messages_are_marked_for_translation(pattern):
    paths = sorted(ROOT.glob(pattern))
    assert paths, pattern
    unmarked = [
        f"{path.relative_to(ROOT)}:{line}: {text[:80]}"
        for path in paths
        for line, text in unmarked_messages(path.read_text(encoding="utf-8"))
    ]
    assert unmarked == [], "wrap these in gettext (`_()`) and translate them"
