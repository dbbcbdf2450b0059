"""A node's progress as it runs: published and saved at a bounded rate.

Engine progress is fine-grained (a component may report every batch). A change is published
at most every PROGRESS_PUBLISH_SECONDS and written to the database at most every
PROGRESS_SAVE_SECONDS; the node's next status change (`transitions.set_node_status`) carries
and saves the latest value. So progress stays cheap, and a burst of it cannot fill a
listener's channel (channel layers drop what does not fit) and crowd out the status events
after it. A party's part of a node is throttled by the same bounds (`parts.set_part_progress`).
"""

from __future__ import annotations

import time

from workflows import events
from workflows.models import NodeRun

PROGRESS_SAVE_SECONDS = 0.5
PROGRESS_PUBLISH_SECONDS = 0.1


def set_node_progress(node: NodeRun, percent: int) -> None:
    """Publish a change at most every PROGRESS_PUBLISH_SECONDS and write it to the database at
    most every PROGRESS_SAVE_SECONDS (a status change carries and saves the latest value)."""
    if percent == node.progress:
        return
    node.progress = percent
    now = time.monotonic()
    if now - getattr(node, "_progress_saved_at", 0.0) >= PROGRESS_SAVE_SECONDS:
        node._progress_saved_at = now
        node.save(update_fields=["progress"])
    if now - getattr(node, "_progress_published_at", 0.0) >= PROGRESS_PUBLISH_SECONDS:
        node._progress_published_at = now
        events.publish(node.run_id, "node.progress", node=node.node_id, progress=percent)
