"""The demo with one finished run, and the checks every page gets, for the page-wide tests.

- `demo_world()`: `bootstrap_demo` (three banks, datasets, the joint project and its demo
  pipeline) plus one run of the demo pipeline, executed in the test thread, started by alice.
- `axe_problems(page, base)`: axe-core (vendored under static/vendor, served by the console
  itself: no CDN) run on the page as it is; the serious and critical violations as readable
  lines (rule, help, the first elements and why).
- `open_page(page, base, path)`: go to a console page and wait until it is drawn (the canvas
  pages set `body[data-canvas-ready]` once the editor is built).
"""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from console.accounts.models import User
from console.demo.pipeline import PIPELINE_NAME
from tests.workflows.runs import run_now
from workflows.models import Pipeline, Status

AXE = "/static/vendor/axe-core-4.14.1/axe.min.js"
BLOCKING = ("serious", "critical")
DEMO_PASSWORD = "privpad-{}"
RUN_AXE = """async (impacts) => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.filter((v) => impacts.includes(v.impact)).map((v) =>
    `${v.impact} ${v.id}: ${v.help} -> ` + v.nodes.slice(0, 3).map((n) => {
      const why = (n.failureSummary || "").replace(/\\s+/g, " ").slice(0, 160);
      return `${n.target.join(" ")} (${why})`;
    }).join("; "));
}"""


DANGLING_REFERENCES = """() => {
  const out = [];
  for (const attr of ["aria-describedby", "aria-labelledby", "aria-controls"]) {
    for (const el of document.querySelectorAll(`[${attr}]`)) {
      for (const id of el.getAttribute(attr).split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) out.push(`${el.tagName.toLowerCase()} ${attr}="${id}"`);
      }
    }
  }
  return out;
}"""


def demo_world(settings, tmp_path, *, run: bool = True) -> dict:
    """The demo, and (unless `run=False`) one succeeded run of its pipeline."""
    settings.NODE_STORAGE_DIR = tmp_path / "nodes"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("bootstrap_demo", stdout=StringIO())
    pipeline = Pipeline.objects.get(name=PIPELINE_NAME)
    world = {"pipeline": pipeline, "project": pipeline.project, "run": None}
    if run:
        world["run"] = run_now(pipeline, user=User.objects.get(username="alice"))
        assert world["run"].status == Status.SUCCEEDED, world["run"].message
    return world


def log_in_as(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD.format(username))
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")


def open_page(page, base: str, path: str) -> None:
    page.goto(f"{base}{path}")
    if path.startswith("/pipelines/") and not path.startswith("/pipelines/new/"):
        page.wait_for_selector('body[data-canvas-ready="true"]')
        # The first fit runs on an animation frame after the editor is built.
        page.wait_for_timeout(400)


def axe_problems(page, base: str) -> list[str]:
    """Serious and critical axe-core violations of the page as it is now, and every ARIA
    reference (describedby, labelledby, controls) to an id the page does not have."""
    if not page.evaluate("() => Boolean(window.axe)"):
        page.add_script_tag(url=f"{base}{AXE}")
    dangling = [f"dangling reference: {ref}" for ref in page.evaluate(DANGLING_REFERENCES)]
    return page.evaluate(RUN_AXE, list(BLOCKING)) + dangling
