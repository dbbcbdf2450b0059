"""axe-core on every page of the console, as the people who use it see them.

axe-core is vendored (static/vendor/axe-core-*/, served by the console: no CDN) and injected
into each page. A page fails on a serious or critical violation (rule, elements and why) and
on an aria-describedby, aria-labelledby or aria-controls naming an id it does not have; forms
are also checked with their errors shown, where Django points inputs at them. Every page's
first Tab stop is the skip link, which moves the focus to the main region.

Pages: login, dashboard, datasets (list, detail, upload, preview), projects (list, detail,
create, edit), the new-pipeline form, the pipeline canvas (editing, with a node selected, the
shortcuts open) and a past run's read-only view (with a node's results), the runs page, audit
log, nodes, API token, and the error pages (404, 403, the CSRF refusal, 500) - as a node
admin - and the platform admin's dashboard, runs, nodes, audit and projects pages.
"""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from playwright.sync_api import expect

from console.datasets.models import Dataset
from tests.e2e.pages_helpers import axe_problems, demo_world, log_in_as, open_page

ERROR_PAGES = ("403.html", "500.html")


@pytest.fixture
def world(asgi_live_server, settings, tmp_path) -> dict:
    return demo_world(settings, tmp_path)


def check(page, base: str, label: str, failures: dict) -> None:
    problems = axe_problems(page, base)
    if problems:
        failures[label] = problems


def node_admin_pages(world) -> list[str]:
    project, pipeline, run = world["project"], world["pipeline"], world["run"]
    dataset = Dataset.objects.get(name="credit_customers").pk  # alice's own
    return [
        "/",
        "/datasets/",
        f"/datasets/{dataset}/",
        "/datasets/upload/",
        f"/datasets/{dataset}/preview/",
        "/projects/",
        f"/projects/{project.pk}/",
        "/projects/new/",
        f"/projects/{project.pk}/edit/",
        f"/pipelines/new/{project.pk}/",
        f"/pipelines/{pipeline.pk}/",
        f"/pipelines/runs/{run.pk}/",
        "/runs/",
        f"/runs/?pipeline={pipeline.pk}&status=succeeded",
        "/audit/",
        "/nodes/",
        "/accounts/token/",
        "/no/such/page/",
    ]


def test_every_page_has_no_serious_accessibility_violation(world, asgi_live_server, new_page):
    base = asgi_live_server.url
    failures: dict[str, list[str]] = {}
    page = new_page()
    page.goto(f"{base}/accounts/login/")
    check(page, base, "login", failures)
    page.get_by_role("button", name="Log in").click()  # empty: the form's errors
    check(page, base, "login with errors", failures)
    log_in_as(page, base, "alice")
    open_page(page, base, "/projects/new/")
    page.get_by_role("button", name="Create project").click()  # no name: errors by the fields
    check(page, base, "new project with errors", failures)
    for path in node_admin_pages(world):
        open_page(page, base, path)
        check(page, base, path, failures)
        skip_link_leads_to_main(page, path)
    _canvas_states(page, base, world, failures)
    _error_pages(page, base, failures)
    admin = new_page()
    log_in_as(admin, base, "admin")
    for path in ("/", "/runs/", "/nodes/", "/audit/", "/projects/"):
        open_page(admin, base, path)
        check(admin, base, f"admin {path}", failures)
    assert not failures, "\n".join(
        f"{where}: {line}" for where, lines in failures.items() for line in lines
    )


def skip_link_leads_to_main(page, path: str) -> None:
    """The first Tab stop is "Skip to main content", shown when focused; it moves the focus
    to the page's main region."""
    page.evaluate("() => { document.activeElement?.blur(); window.scrollTo(0, 0); }")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    focused = page.evaluate("() => document.activeElement.id")
    assert focused == "main", f"{path}: the skip link left the focus on #{focused}"


def _canvas_states(page, base, world, failures) -> None:
    """The canvas with a node selected and the shortcuts open; a run's node results."""
    open_page(page, base, f"/pipelines/{world['pipeline'].pk}/")
    page.locator("#canvas").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_selector("#panel-config .config-meta code")
    check(page, base, "canvas, node selected", failures)
    page.get_by_role("button", name="Keyboard shortcuts").click()
    check(page, base, "canvas, shortcuts", failures)
    open_page(page, base, f"/pipelines/runs/{world['run'].pk}/")
    page.locator("#canvas").focus()
    page.keyboard.press("ArrowRight")
    page.locator("#tab-results").click()
    page.wait_for_selector("#panel-results .panel-heading")
    check(page, base, "run view, results", failures)


def _serving(html: str):
    return lambda route, _request: route.fulfill(body=html, content_type="text/html")


def _error_pages(page, base, failures) -> None:
    """403 and 500 as the console renders them (served for a made-up URL), and a real CSRF
    refusal (a form posted without its token)."""
    for name in ERROR_PAGES:
        html = render_to_string(name, {"exception": "Only the owner node manages this project."})
        url = f"{base}/__error__/{name}"
        page.route(url, _serving(html))
        page.goto(url)
        check(page, base, name, failures)
    page.goto(f"{base}/projects/new/")
    page.evaluate(
        "document.querySelectorAll('[name=csrfmiddlewaretoken]').forEach(i => i.remove())"
    )
    page.locator("form.form button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("h1")).to_have_text("This form has expired")
    check(page, base, "403 CSRF", failures)
