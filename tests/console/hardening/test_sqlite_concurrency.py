"""The embedded SQLite database serialises concurrent writers: no "database is locked"."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from console.audit.models import AuditEvent
from console.projects.models import Project

pytestmark = pytest.mark.django_db(transaction=True)
WRITERS = 8
WRITES = 15


@pytest.fixture(autouse=True)
def sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("the embedded default only: PostgreSQL locks rows, not the database")


def test_the_database_is_in_wal_mode_with_a_busy_timeout():
    with connection.cursor() as cursor:
        assert cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert cursor.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_concurrent_read_then_write_transactions_all_succeed(project):
    """The pattern that fails under deferred transactions: read, then write, in one atomic
    block, from many threads at once (a run's progress, a request's audit entry)."""
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer(index: int) -> None:
        try:
            start.wait()
            for write in range(WRITES):
                with transaction.atomic():
                    Project.objects.get(pk=project.pk)  # read first
                    AuditEvent.objects.create(action="login", detail={"w": index, "n": write})
        except BaseException as error:  # noqa: BLE001 - collected and reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert AuditEvent.objects.count() == WRITERS * WRITES
