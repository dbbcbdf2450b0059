"""A trained model as a zip: `manifest.json` plus the requesting party's own part.

manifest.json: format, component and version, run and node, the parameters the node ran with,
feature columns per party, the label, training metrics, and which party's part the zip holds.
The part is the party's model file exactly as the component wrote it (for SS-LR: its share of
the weights, useless alone). Other parties' parts are never read: each party downloads its own.
"""

from __future__ import annotations

import io
import json
import zipfile

from workflows.models import Artifact

FORMAT = "privpad.model"
FORMAT_VERSION = 1


def feature_columns(meta: dict, artifact: Artifact) -> dict[str, list[str]]:
    """Feature columns per party: from the model's own layout, else every feature the schema
    of the trained table lists (models without a layout)."""
    layout = meta.get("features")
    if isinstance(layout, list) and all(isinstance(p, dict) for p in layout):
        return {part["party"]: list(part["columns"]) for part in layout}
    columns: dict[str, list[str]] = {}
    for column in artifact.info.get("columns", []):
        if column.get("role") == "feature":
            columns.setdefault(column["party"], []).append(column["name"])
    return columns


def manifest(artifact: Artifact, part: dict) -> dict:
    node = artifact.node_run
    meta = part.get("manifest", {}) if isinstance(part, dict) else {}
    params = next(
        (
            n.get("params", {})
            for n in node.run.snapshot.get("nodes", [])
            if n["id"] == node.node_id
        ),
        meta.get("params", {}),
    )
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "component": node.component,
        "version": node.version,
        "model_kind": meta.get("kind"),
        "run": node.run_id,
        "node": node.node_id,
        "created_at": artifact.created_at.isoformat(),
        "parameters": params,
        "parties": meta.get("parties", list(artifact.info.get("parties", []))),
        "feature_columns": feature_columns(meta, artifact),
        "label": meta.get("label"),
        "metrics": meta.get("metrics", {}),
        "part": {"party": artifact.party, "file": part_name(artifact)},
    }


def part_name(artifact: Artifact) -> str:
    return f"parts/{artifact.party}{artifact.path.suffix}"


def model_zip(artifact: Artifact) -> bytes:
    """The zip for the requester's own model artifact (the caller checked ownership)."""
    raw = artifact.path.read_bytes()
    try:
        part = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        part = {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        text = json.dumps(manifest(artifact, part), indent=2, ensure_ascii=False)
        archive.writestr("manifest.json", text)
        archive.writestr(part_name(artifact), raw)
    return buffer.getvalue()


def model_zip_name(artifact: Artifact) -> str:
    node = artifact.node_run
    return f"privpad-run-{node.run_id}-{node.node_id}-{artifact.party}-model.zip"
