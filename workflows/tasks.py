"""The Tasks API entry point of a run (django-tasks): `execute_run_task.enqueue(run_id)`.

Embedded: `workflows.backends.ThreadPoolBackend` runs it in the server process. Worker mode:
django-tasks-db stores it and `manage.py db_worker` runs it in another process.
"""

from __future__ import annotations

from django_tasks import task

from workflows.executor import execute_run


@task()
def execute_run_task(run_id: int) -> str:
    return execute_run(run_id)
