"""Run state: the only code that writes the status of Run, NodeRun and NodePart rows, and
the one place that shapes that state for readers.

- `lifecycle`: the status changes a run, a node and a party's part may make
  (`RUN_TRANSITIONS`, `NODE_TRANSITIONS`); any other raises `IllegalTransition` naming it.
- `transitions`: writing a run's and a node's status (`set_run_status`, `set_node_status`,
  `claim_run`, `stop_pending_run`, `mark_interrupted`).
- `progress`: a node's progress, published and saved at a bounded rate.
- `logs`: a node's log lines and warnings, and its failure's log line; each read as the
  viewer's party may.
- `parts`: each party's part of a run across nodes (`NodePart`: its own status, progress and
  public lines, which follow the node lifecycle).
- `cancellation`: the cancel token a run's executor polls, and cancel requests.
- `views`: run and node state as plain dicts for a viewer (pages, API, websocket snapshot),
  and a failed run's summary.

One writer: a test (`tests/workflows/test_state_writer.py`) checks that no module outside
this package writes these status fields. Every change is saved and published on the run's
channel group (see `workflows.events`), so pages, the API and websocket clients see the same
thing. Messages (a run's and a node's, log lines, warnings, a part's message and lines) are
stored as `workflows.messages` keeps them (msgid and params, or plain text) and events carry
that stored form; the dicts built for readers render them in the active language, the
reader's (`workflows.messages.render`).

Import these names from here (`from workflows import state`, then `state.set_node_status`);
the modules are this package's inside. A test that replaces a module-level name patches the
module that reads it (`workflows.state.cancellation.CANCEL_POLL_SECONDS`).
"""

from workflows.state.cancellation import (
    CancelToken,
    cancel_requested,
    request_cancel,
    signal_cancel,
)
from workflows.state.lifecycle import NODE_TRANSITIONS, RUN_TRANSITIONS, IllegalTransition
from workflows.state.logs import (
    LOG_LEVELS,
    add_node_log,
    add_node_warning,
    failed_line,
    line_for,
    log_failure,
    logs_for,
    warnings_for,
)
from workflows.state.parts import (
    add_part_log,
    add_part_warning,
    close_parts,
    note_part_report,
    open_parts,
    part_state,
    parts_logs,
    parts_warnings,
    run_parties,
    set_part_progress,
    set_part_status,
)
from workflows.state.progress import set_node_progress
from workflows.state.transitions import (
    claim_run,
    mark_interrupted,
    set_node_status,
    set_run_status,
    stop_pending_run,
)
from workflows.state.views import (
    component_label,
    component_name,
    failure_summary,
    node_state,
    output_bytes,
    run_message,
    run_state,
    run_summary,
)

__all__ = [
    "LOG_LEVELS",
    "NODE_TRANSITIONS",
    "RUN_TRANSITIONS",
    "CancelToken",
    "IllegalTransition",
    "add_node_log",
    "add_node_warning",
    "add_part_log",
    "add_part_warning",
    "cancel_requested",
    "claim_run",
    "close_parts",
    "component_label",
    "component_name",
    "failed_line",
    "failure_summary",
    "line_for",
    "log_failure",
    "logs_for",
    "mark_interrupted",
    "node_state",
    "note_part_report",
    "open_parts",
    "output_bytes",
    "part_state",
    "parts_logs",
    "parts_warnings",
    "request_cancel",
    "run_message",
    "run_parties",
    "run_state",
    "run_summary",
    "set_node_progress",
    "set_node_status",
    "set_part_progress",
    "set_part_status",
    "set_run_status",
    "signal_cancel",
    "stop_pending_run",
    "warnings_for",
]
