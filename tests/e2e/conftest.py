"""Real-browser tests: Playwright drives Debian's chromium against pytest-django's live server.

- Skipped (with the reason) when /usr/bin/chromium is missing; `make test` installs it.
- Playwright's sync API runs an event loop in this thread, which Django would otherwise take for
  an async context and refuse ORM calls in; hence DJANGO_ALLOW_ASYNC_UNSAFE.
- On failure each open page is saved as a screenshot under tests/e2e/artifacts/ (gitignored).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.console.conftest import PASSWORD, make_node, make_user

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}


def pytest_collection_modifyitems(items) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.e2e_failed = report.failed


@pytest.fixture(scope="package")
def browser():
    # Package scope: Playwright's event loop must be gone before later suites (websocket
    # tests) run async code in this thread.
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, request) -> Iterator:
    """Open pages in fresh browser contexts (one per user); screenshot them if the test fails."""
    contexts = []

    def open_page():
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    if getattr(request.node, "e2e_failed", False):
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        for index, context in enumerate(contexts):
            for number, page in enumerate(context.pages):
                page.screenshot(
                    path=str(ARTIFACTS / f"{name}-{index}-{number}.png"), full_page=True
                )
    for context in contexts:
        context.close()


@pytest.fixture
def people(transactional_db) -> dict:
    """Alice's bank and Bob's shop, a node admin each, and Alice's project with Bob in it."""
    from console.projects.models import Project, ProjectMember

    alice = make_node("alice", "Alice Bank")
    bob = make_node("bob", "Bob Shop")
    users = {"alice": make_user("alice_admin", alice), "bob": make_user("bob_admin", bob)}
    project = Project.objects.create(name="Joint credit model", owner_node=alice)
    ProjectMember.objects.create(project=project, node=alice)
    ProjectMember.objects.create(project=project, node=bob)
    return {"alice": alice, "bob": bob, "project": project, **users}


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/")


from tests.e2e.asgi_server import _asgi_server, asgi_live_server  # noqa: E402, F401 - fixtures
