"""Restart recovery: no run stays "running" after the process executing it is gone.

Each run records the "host:pid" of the process executing it (`Run.executor`). A run still
pending or running whose executor is a dead process on this host becomes "interrupted", with a
message, and so do its unfinished nodes; it can be run again. Runs executed on another host are
left alone (this process cannot tell whether that host is alive). Pending runs that no process
has picked up yet are left alone too: in worker mode they wait in the database queue.

When: on the first request each server process serves (`request_started`), not in
`AppConfig.ready`, so that migrations, management commands and test set-up never touch the
database unexpectedly; `manage.py runpipeline` also recovers before it starts. The function is
idempotent and safe to call at any time, since live executors are never touched.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from django.db import DatabaseError

from workflows.messages import translatable

logger = logging.getLogger(__name__)
_done = threading.Event()

INTERRUPTED_MESSAGE = translatable(
    "The server stopped while this was running; run the pipeline again."
)


def executor_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(executor: str) -> bool:
    host, _, pid = executor.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_interrupted_runs() -> int:
    """Mark runs whose executor died as interrupted; return how many."""
    from workflows import state
    from workflows.models import Run, Status

    active = Run.objects.filter(status__in=[Status.PENDING, Status.RUNNING]).exclude(executor="")
    dead = [run.pk for run in active.only("pk", "executor") if not _alive(run.executor)]
    if not dead:
        return 0
    state.mark_interrupted(dead, INTERRUPTED_MESSAGE)
    logger.warning("Marked %d run(s) interrupted after a restart: %s", len(dead), dead)
    return len(dead)


def recover_on_first_request(**kwargs) -> None:
    if _done.is_set():
        return
    _done.set()
    try:
        recover_interrupted_runs()
    except DatabaseError:
        # Not migrated yet: nothing can have run.
        logger.debug("Run recovery skipped: the database is not ready", exc_info=True)
