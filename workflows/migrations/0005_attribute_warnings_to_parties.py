"""Give warnings stored before they had a party their party, and redact their log lines.

Warnings recorded before `RunContext.warn(message, party=...)` were shown to every project
member, and the ones about a party's data name its columns ("features not scaled at alice:
income, age go beyond ±10 ..."). The texts this code wrote then say whose data they are about;
those are attributed to that party, so `workflows.redaction.warning_for` shows them in full to
its users only, and their warning log lines get the public text with a reference to the warning
(as `workflows.state.add_node_warning` writes them now). Other warnings stay public.
"""

import re

from django.db import migrations

from workflows.redaction import warning_public

# The texts of the warnings about a party's data that components wrote before this migration.
ABOUT_A_PARTY = (
    re.compile(r"^features not scaled at ([^\s:]+): "),
    re.compile(r"^some predictions at (\S+) lie outside \[0, 1\]"),
)


def party_of(message: str) -> str:
    for pattern in ABOUT_A_PARTY:
        found = pattern.match(message)
        if found:
            return found.group(1)
    return ""


def redacted_line(line: dict, warnings: list[dict]) -> dict:
    if line.get("level") != "warning" or line.get("redacted"):
        return line
    for index, warning in enumerate(warnings):
        if warning["party"] and warning["message"] == line.get("message"):
            public = warning_public(warning["party"]).stored()
            return line | {
                "message": public,
                "party": warning["party"],
                "redacted": True,
                "warning": index,
            }
    return line


def attribute_warnings(apps, schema_editor):
    NodeRun = apps.get_model("workflows", "NodeRun")
    for node in NodeRun.objects.only("warnings", "logs").iterator():
        if not node.warnings or all("party" in warning for warning in node.warnings):
            continue
        node.warnings = [
            warning if "party" in warning else warning | {"party": party_of(warning["message"])}
            for warning in node.warnings
        ]
        node.logs = [redacted_line(line, node.warnings) for line in node.logs]
        node.save(update_fields=["warnings", "logs"])


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0004_noderun_warnings"),
    ]

    operations = [
        migrations.RunPython(attribute_warnings, migrations.RunPython.noop),
    ]
