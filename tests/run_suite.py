"""Run every test in two concurrent pytest sessions, as `make test` does.

Tests that start other processes (real node installations, party processes, the consoles of
two nodes in a browser) spend most of their wall time waiting for those processes to start and
answer, on a 2-core machine as much as the rest of the suite takes to compute. So they run in
a second session beside the in-process suite, followed there by the console's pass on
PostgreSQL; the in-process session streams its output, the other's is printed when it ends.
Each session has its own temporary directory (`--basetemp`), and every server they start
takes a free port, so they do not meet. The exit status is the first failing session's.

    .venv/bin/python tests/run_suite.py [extra pytest arguments for both sessions]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Modules whose tests start other processes and mostly wait for them.
MULTI_PROCESS = [
    "tests/console/nodes/test_two_nodes.py",
    "tests/console/nodes/test_rotation.py",
    "tests/console/federation/test_three_nodes.py",
    "tests/console/federation/test_demo_across_nodes.py",
    "tests/console/federation/test_dealer_across_nodes.py",
    "tests/e2e/test_node_pairing.py",
    "tests/e2e/test_shared_project.py",
    "tests/workflows/network",
]
# The console again on PostgreSQL; tests that bring their own servers and databases (the
# modules above, the websocket load harness) ran once on the default database.
POSTGRES = [
    "tests/console",
    "--postgres",
    "--ignore=tests/console/test_websocket_load.py",
    *(f"--ignore={path}" for path in MULTI_PROCESS if path.startswith("tests/console")),
]


def pytest(args: list[str], basetemp: Path, **popen) -> subprocess.Popen:
    command = [sys.executable, "-m", "pytest", f"--basetemp={basetemp}", *args]
    return subprocess.Popen(command, cwd=ROOT, **popen)


def second_session(extra: list[str], scratch: Path, log, codes: list[int]) -> None:
    """The multi-process tests, then (if they pass) the console on PostgreSQL, into `log`."""
    for name, args in (("multi", MULTI_PROCESS), ("postgres", POSTGRES)):
        code = pytest([*args, "-q", *extra], scratch / name, stdout=log, stderr=log).wait()
        codes.append(code)
        if code:
            return


def main(extra: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="privpad-tests-") as scratch:
        scratch = Path(scratch)
        with (scratch / "second.log").open("w+") as log:
            codes: list[int] = []
            second = threading.Thread(target=second_session, args=(extra, scratch, log, codes))
            second.start()
            ignores = [f"--ignore={path}" for path in MULTI_PROCESS]
            first_code = pytest([*ignores, *extra], scratch / "main").wait()
            second.join()
            log.seek(0)
            print("\n===== tests that start processes, then the console on PostgreSQL =====")
            print(log.read(), flush=True)
        second_code = next((code for code in codes if code), 0 if codes else 1)
        return first_code or second_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
