"""`ThreadPoolBackend`: the embedded task back-end, a thread pool inside the server process.

django-tasks ships only immediate and dummy back-ends; the embedded console needs tasks that
run in the background of the server process without a separate worker. Results live in this
process's memory (`get_result` works only here); anything durable is written by the task itself
(pipeline runs keep their state in the database). Production uses django-tasks-db's
`DatabaseBackend` and `manage.py db_worker` instead.

One pool per process and alias, whatever the number of back-end instances: django-tasks keeps
back-ends in context-local storage, so under daphne every request gets an instance of its own.
A pool per instance let five runs started from five requests execute at once with
`max_workers=2`; the pool, the results and the futures are therefore shared (`_SHARED`), and
`max_workers` caps the runs executing in the whole process.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.db import close_old_connections, connections
from django.utils import timezone
from django_tasks.backends.base import BaseTaskBackend
from django_tasks.base import Task, TaskContext, TaskError, TaskResult, TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist
from django_tasks.signals import task_enqueued, task_finished, task_started
from django_tasks.utils import (
    get_exception_traceback,
    get_module_path,
    get_random_id,
    normalize_json,
)

logger = logging.getLogger(__name__)
# Finished results kept for `get_result`; older ones are forgotten (the server runs for months).
MAX_KEPT_RESULTS = 1000


class ThreadPoolBackend(BaseTaskBackend):
    supports_get_result = True
    supports_priority = False

    def __init__(self, alias: str, params: dict) -> None:
        super().__init__(alias, params)
        self.max_workers = int(self.options.get("max_workers", 2))
        with _SHARED_LOCK:
            state = _SHARED.setdefault(alias, _PoolState(get_random_id()))
        self._state = state
        self.worker_id = state.worker_id
        self._lock = state.lock
        self._results = state.results
        self.futures = state.futures

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            state = self._state
            if state.pool is None or state.max_workers != self.max_workers:
                if state.pool is not None:
                    state.pool.shutdown(wait=False)  # its running tasks finish; new ones wait
                state.pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix="privpad-run")
                state.max_workers = self.max_workers
            return state.pool

    def enqueue(self, task: Task, args: Any, kwargs: Any) -> TaskResult:
        self.validate_task(task)
        result = TaskResult(
            task=task,
            id=get_random_id(),
            status=TaskResultStatus.READY,
            enqueued_at=timezone.now(),
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=normalize_json(args),
            kwargs=normalize_json(kwargs),
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        with self._lock:
            self._prune()
            self._results[result.id] = result
        task_enqueued.send(type(self), task_result=result)
        self.futures[result.id] = self._executor().submit(self._execute, result)
        return result

    def _execute(self, result: TaskResult) -> None:
        started = timezone.now()
        _set(result, status=TaskResultStatus.RUNNING, started_at=started, last_attempted_at=started)
        result.worker_ids.append(self.worker_id)
        task_started.send(type(self), task_result=result)
        close_old_connections()
        try:
            task = result.task
            call_args = (TaskContext(task_result=result), *result.args)
            value = task.call(*(call_args if task.takes_context else result.args), **result.kwargs)
            _set(result, _return_value=normalize_json(value), status=TaskResultStatus.SUCCESSFUL)
        except BaseException as error:  # noqa: BLE001 - a task failure must not kill the pool
            logger.exception("Task %s failed", result.id)
            result.errors.append(
                TaskError(
                    exception_class_path=get_module_path(type(error)),
                    traceback=get_exception_traceback(error),
                )
            )
            _set(result, status=TaskResultStatus.FAILED)
        finally:
            _set(result, finished_at=timezone.now())
            task_finished.send(type(self), task_result=result)
            # An idle pool thread must not hold database connections.
            connections.close_all()

    def _prune(self) -> None:
        finished = [key for key, future in self.futures.items() if future.done()]
        for key in finished[: max(0, len(self._results) - MAX_KEPT_RESULTS + 1)]:
            self._results.pop(key, None)
            self.futures.pop(key, None)

    def get_result(self, result_id: str) -> TaskResult:
        try:
            return self._results[result_id]
        except KeyError:
            raise TaskResultDoesNotExist(result_id) from None

    def wait(self, result_id: str, timeout: float | None = None) -> None:
        """Block until the task has finished (tests and the terminal command use this)."""
        self.futures[result_id].result(timeout=timeout)

    def shutdown(self) -> None:
        with self._lock:
            pool, self._state.pool = self._state.pool, None
        if pool is not None:
            pool.shutdown(wait=True)


@dataclass
class _PoolState:
    """What every instance of the back-end for one alias shares in this process."""

    worker_id: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    pool: ThreadPoolExecutor | None = None
    max_workers: int = 0
    results: dict[str, TaskResult] = field(default_factory=dict)
    futures: dict[str, Future] = field(default_factory=dict)


_SHARED: dict[str, _PoolState] = {}
_SHARED_LOCK = threading.Lock()


def _set(result: TaskResult, **fields: Any) -> None:
    # TaskResult is a frozen dataclass; back-ends update it in place, as django-tasks' own do.
    for name, value in fields.items():
        object.__setattr__(result, name, value)
