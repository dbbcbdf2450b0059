"""Stopping a running run: the cancel token its executor polls, and the requests that trip it.

A run stops when it is cancelled (`request_cancel`: the DB's `cancel_requested`) or revoked
(consent withdrawn: the DB's `revoked_at`, set by `workflows.revocation`). Its executor asks
its `CancelToken` at every progress point and stops there. In the process that executes the
run, a per-run event answers at once (`signal_cancel` sets it); a request made in another
process (separate workers) is seen through the database, asked at most every
CANCEL_POLL_SECONDS.
"""

from __future__ import annotations

import threading
import time

from django.db.models import Q

from workflows.messages import stored_text, translatable
from workflows.models import Run

CANCEL_POLL_SECONDS = 1.0
_cancel_events: dict[int, threading.Event] = {}
_cancel_lock = threading.Lock()


class CancelToken:
    """True once the run is cancelled or revoked: by this process (an event) or another (the
    DB's `cancel_requested` or `revoked_at`). `revocation()` then says which.

    The event answers at once; the database is asked at most once a second, for cancels
    requested through another process (separate workers).
    """

    def __init__(self, run_id: int):
        self.run_id = run_id
        with _cancel_lock:
            self.event = _cancel_events.setdefault(run_id, threading.Event())
        self._checked = time.monotonic()

    def __call__(self) -> bool:
        if self.event.is_set():
            return True
        if time.monotonic() - self._checked >= CANCEL_POLL_SECONDS:
            self._checked = time.monotonic()
            stopped = Q(cancel_requested=True) | Q(revoked_at__isnull=False)
            if Run.objects.filter(stopped, pk=self.run_id).exists():
                self.event.set()
        return self.event.is_set()

    def revocation(self) -> str | None:
        """Why consent was withdrawn if the run was revoked (always asks the database)."""
        row = Run.objects.filter(pk=self.run_id, revoked_at__isnull=False).first()
        if row is None:
            return None
        return row.revoke_reason or stored_text(translatable("consent was withdrawn"))

    def close(self) -> None:
        with _cancel_lock:
            _cancel_events.pop(self.run_id, None)


def signal_cancel(run_id: int) -> None:
    """Wake a run executing in this process at its next progress point."""
    with _cancel_lock:
        event = _cancel_events.get(run_id)
    if event is not None:
        event.set()


def request_cancel(run_id: int) -> None:
    """Ask a run to stop: its executor, in this process or another, stops at its next progress
    point (`CancelToken`)."""
    Run.objects.filter(pk=run_id).update(cancel_requested=True)
    signal_cancel(run_id)


def cancel_requested(run_id: int) -> bool:
    return Run.objects.filter(pk=run_id, cancel_requested=True).exists()
