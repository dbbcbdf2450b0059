"""The run lifecycle: which status changes a run, a node and a party's part may make.

A run goes pending -> running -> one finished status, or from pending straight to cancelled,
revoked or interrupted. A node likewise (a pending node may also end without running:
skipped, or succeeded by reusing an earlier run's output), and a succeeded node may still be
revoked: its outputs, recorded as consent was withdrawn, are taken back
(`executor.withdraw_outputs`). A party's part of a node (`workflows.state.parts`) follows the
node's lifecycle. Otherwise finished is final.

Pure rules, no database: the writers (`transitions`, `parts`) check every change here first.
"""

from __future__ import annotations

from workflows.models import Status

S = Status
# status -> the statuses it may change to (a status that is no key here is final).
RUN_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.RUNNING, S.CANCELLED, S.REVOKED, S.INTERRUPTED}),
    S.RUNNING: frozenset({S.SUCCEEDED, S.FAILED, S.CANCELLED, S.REVOKED, S.INTERRUPTED}),
}
NODE_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset(
        {S.RUNNING, S.SUCCEEDED, S.FAILED, S.SKIPPED, S.CANCELLED, S.REVOKED, S.INTERRUPTED}
    ),
    S.RUNNING: frozenset({S.SUCCEEDED, S.FAILED, S.CANCELLED, S.REVOKED, S.INTERRUPTED}),
    # Outputs recorded as consent was withdrawn are taken back (`executor.withdraw_outputs`).
    S.SUCCEEDED: frozenset({S.REVOKED}),
}


class IllegalTransition(RuntimeError):
    """A status change the run lifecycle does not allow: a bug in the code asking for it."""

    def __init__(self, what: str, pk, old: str, new: str):
        super().__init__(f"{what} {pk} cannot go from {str(old)!r} to {str(new)!r}")
        self.old, self.new = old, new


def check_transition(transitions: dict, what: str, pk, old: str, new: str) -> None:
    """Raise IllegalTransition naming `what` `pk` unless `transitions` let `old` become `new`."""
    if new not in transitions.get(old, ()):
        raise IllegalTransition(what, pk, old, new)
