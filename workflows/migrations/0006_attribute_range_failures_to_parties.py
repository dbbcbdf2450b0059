"""Make range failures stored before they were a party's own that party's, and redact them.

Before `workflows.components.secure.range_failure`, a node refused for the fixed-point range
(no precision holds the inputs, too few fraction bits, a table beyond the model's precision, an
engine range check) stored one text for every member, naming the columns ("the values of bob's
basket_total are out of the range ..."), their bound and the fix. Those texts say whose columns
they are. A failure naming one party's columns becomes that party's own: its users keep the
full text, everyone else reads `workflows.redaction.range_public`. One naming several parties'
columns gets one text for everyone naming the parties only (`secure.joint_range_message`).
The run's message and the failure's log line follow, as `workflows.state` writes them now; the
engine's explanation logged beside the failure ("the engine refused ...") is removed: the
failing party's full text keeps it.
"""

import re

from django.db import migrations

# The texts are this migration's own, in English as it wrote them: `range_public` and
# `joint_range_message` now return stored messages, and a migration must not change with them.


def range_public(party: str, what: str, *, computed: bool = False) -> str:
    """What parties other than `party` read of its range failure (English, as written)."""
    if computed:
        text = (
            "%(what)s: a value computed from %(party)s's data is outside the range the "
            "fixed-point encoding can hold; only %(party)s's users see which columns and how "
            "to fix it."
        )
    else:
        text = (
            "%(what)s: a value of %(party)s's data is outside the range the fixed-point "
            "encoding can hold; only %(party)s's users see which column and how to fix it."
        )
    return text % {"what": what, "party": party}


def joint_range_message(what: str, operation: str, parties: list[str], fix: str) -> str:
    """The one text of a refusal of values computed from several parties' data."""
    named = "".join(parties) if len(parties) < 2 else f"{', '.join(parties[:-1])} and {parties[-1]}"
    return (
        f"{what} stopped at a range check (operation {operation}) on values computed from the "
        f"data of {named}: a value is outside the range this operation can compute on in fixed "
        f"point. Fix: {fix}."
    )


# The texts `workflows.components.secure` (and SS-LR prediction) wrote before this migration.
OLD_TEXTS = (
    (
        re.compile(
            r"^the values of (?P<columns>.+?) are out of the range (?P<what>.+?) can "
            r"compute on in fixed point \(operation (?P<operation>[^,]+), "
        ),
        False,
    ),
    (
        re.compile(
            r"^the values of (?P<columns>.+?) leave (?P<what>.+?) only \d+ fraction bits, "
            r"fewer than"
        ),
        False,
    ),
    (
        re.compile(
            r"^the values of (?P<columns>.+?) are larger than the model's precision "
            r"(?P<what>)"
        ),
        False,
    ),
    (
        re.compile(
            r"^(?P<what>.+?) stopped at a range check on values computed from "
            r"(?P<columns>.+?) \(operation (?P<operation>[^,]+), "
        ),
        True,
    ),
)
PARTY = re.compile(r"(?:^|[,;] )([a-z0-9][a-z0-9_-]{0,39})'s ")
ENGINE_LINE = "the engine refused "
GENERIC_FIX = "scale the inputs"


def parse(message: str):
    """(what, operation, parties named, computed) of an old range failure, or None."""
    for pattern, computed in OLD_TEXTS:
        found = pattern.match(message)
        if found:
            parties = list(dict.fromkeys(PARTY.findall(found["columns"] + " ")))
            what = found["what"] or "SS-LR prediction"
            operation = found.groupdict().get("operation") or "plan_precision"
            return what, operation, parties, computed
    return None


def old_fix(message: str) -> str:
    """The old text's fix when it names no party's columns (the engine's), else a generic one."""
    fix = message.rsplit("Fix: ", 1)[-1].rstrip(".") if "Fix: " in message else ""
    return fix if fix and "'s " not in fix else GENERIC_FIX  # "add a scaler for bob's x"


def redact(node, run) -> None:
    parsed = parse(node.message)
    if parsed is None:
        return
    what, operation, named, computed = parsed
    parties = [p for p in named if not node.comm_bytes or p in node.comm_bytes]
    old = node.message
    if len(parties) == 1:
        node.party = parties[0]
        node.public_message = range_public(node.party, what, computed=computed)
    else:
        everyone = parties or sorted(node.comm_bytes)
        node.message = joint_range_message(what, operation, everyone, old_fix(old))
        node.public_message = node.message
    node.logs = [_line(line, old, node) for line in node.logs if not _engine_line(line)]
    node.save(update_fields=["message", "public_message", "party", "logs"])
    if old in run.message:
        run.message = run.message.replace(old, node.public_message)
        run.save(update_fields=["message"])


def _engine_line(line: dict) -> bool:
    return str(line.get("message", "")).startswith(ENGINE_LINE)


def _line(line: dict, old: str, node) -> dict:
    if line.get("level") != "error" or line.get("message") != f"failed: {old}":
        return line
    if not node.party:
        return line | {"message": f"failed: {node.public_message}"}
    public = f"failed at {node.party}: {node.public_message}"
    return line | {"message": public, "party": node.party, "redacted": True}


def attribute_range_failures(apps, schema_editor):
    NodeRun = apps.get_model("workflows", "NodeRun")
    failed = NodeRun.objects.filter(status="failed", party="").select_related("run")
    for node in failed.iterator():
        redact(node, node.run)


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0005_attribute_warnings_to_parties"),
    ]

    operations = [
        migrations.RunPython(attribute_range_failures, migrations.RunPython.noop),
    ]
