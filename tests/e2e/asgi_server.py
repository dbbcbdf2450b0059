"""`asgi_live_server`: the console served by daphne in this process, websockets included.

pytest-django's `live_server` is a WSGI server: it has no websockets, so the canvas could not
watch a run live. This fixture runs daphne's `Server` with `console.asgi.application` in a
background thread instead:

- Twisted's reactor is process-global and cannot be restarted once stopped, so one server
  serves the whole tests/e2e package (the same scope as the browser) and stops at its end;
  later suites (tests/workflows' websocket tests) then bind their own event loop afresh.
- `daphne.server` installs Twisted's asyncio reactor when imported: it is imported here in the
  main thread before anything else can pull in a default reactor. The reactor runs without
  signal handlers (only the main thread may install those).
- Requests and websocket consumers run in the server thread and its executors against the
  test database, which is a SQLite file (or PostgreSQL), so every thread sees the test's rows;
  hence `transactional_db`: the test's writes are committed, not hidden in a transaction.
- Runs execute on the embedded thread-pool task back-end of this process, and their events
  reach the browser through the in-memory channel layer on the server's loop (the consumer
  binds it, see `workflows.events`). Before the test's tables are flushed, the fixture waits
  for unfinished runs to finish (tests must let them: release gates, cancel).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

START_TIMEOUT_SECONDS = 20
STOP_TIMEOUT_SECONDS = 20
RUN_DRAIN_SECONDS = 60


@dataclass(frozen=True)
class AsgiLiveServer:
    url: str

    def __str__(self) -> str:
        return self.url


class DaphneThread(threading.Thread):
    """daphne on 127.0.0.1 and a free port, in a daemon thread; `start_serving()` waits for
    the port, `stop()` stops the reactor and joins."""

    def __init__(self) -> None:
        super().__init__(name="asgi-live-server", daemon=True)
        self.listening = threading.Event()
        self.error: BaseException | None = None
        self.port: int | None = None
        self.server = None

    def run(self) -> None:
        from daphne.server import Server
        from twisted.internet import reactor

        from console.asgi import application

        try:
            self.server = Server(
                application,
                endpoints=["tcp:port=0:interface=127.0.0.1"],
                signal_handlers=False,
                verbosity=0,
            )
            reactor.callLater(0, self._watch_port, reactor)
            self.server.run()
        except BaseException as error:  # noqa: BLE001 - reported by start_serving()
            self.error = error
            self.listening.set()

    def _watch_port(self, reactor) -> None:
        if self.server.listening_addresses:
            self.port = self.server.listening_addresses[0][1]
            self.listening.set()
        else:
            reactor.callLater(0.05, self._watch_port, reactor)

    def start_serving(self) -> str:
        import daphne.server  # noqa: F401 - installs the asyncio reactor, in the main thread

        self.start()
        if not self.listening.wait(START_TIMEOUT_SECONDS) or self.port is None:
            raise RuntimeError(f"daphne did not start listening: {self.error!r}")
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        from twisted.internet import reactor

        if reactor.running:
            reactor.callFromThread(reactor.stop)
        self.join(STOP_TIMEOUT_SECONDS)


@pytest.fixture(scope="package")
def _asgi_server(django_db_setup, django_db_blocker) -> Iterator[str]:
    thread = DaphneThread()
    with django_db_blocker.unblock():
        url = thread.start_serving()
    yield url
    thread.stop()


def _drain_runs() -> None:
    """Wait for runs still executing (they write to the test's tables, about to be flushed).

    The database is asked, not the task back-end: django-tasks keeps one back-end instance per
    thread, and the runs were enqueued by the server's threads, not this one.
    """
    from workflows.models import FINISHED, Run

    deadline = time.monotonic() + RUN_DRAIN_SECONDS
    while Run.objects.exclude(status__in=FINISHED).exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"runs still unfinished after {RUN_DRAIN_SECONDS} s")
        time.sleep(0.1)


@pytest.fixture
def asgi_live_server(_asgi_server, transactional_db) -> Iterator[AsgiLiveServer]:
    """The ASGI console's base URL (`.url`), with websockets, for one test."""
    yield AsgiLiveServer(_asgi_server)
    _drain_runs()
