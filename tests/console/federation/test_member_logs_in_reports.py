"""A run across nodes: the initiator's downloadable report holds the members' public log lines.

This installation is alice's node, which started a run across nodes with bob. Bob's node reports
its part (`RunEvent`): his log lines and warnings land on his parts of the nodes, the canvas
shows them marked "@bob", and alice's report of the run shows the same lines, marked the same
way, in time order with her own; a warning about bob's data keeps its public text only. Bob's
own report copy (his installation's run) holds his own lines: see
`test_member_outputs.test_bobs_run_page_shows_his_results`.
"""

from __future__ import annotations

import pytest

from tests.console.federation.test_initiate import alices_run
from tests.console.federation.test_remote_sources import with_bob
from tests.console.federation.test_run_events import FULL_WARNING, batch, nodes_of, report
from workflows import state
from workflows.reports.collect import run_facts
from workflows.reports.render import render_run_report

__all__ = ["alices_run", "with_bob"]  # fixtures used here
BOBS_LINE = "PSI: bob joined 30 of his ids"


@pytest.fixture
def reported(alices_run, at_alice, alice):
    """Alice's run with bob's part of its first node reported: a line and a warning."""
    run, _ = alices_run
    state.open_parts(run, ("alice", "bob"))
    first = run.nodes.order_by("position").first()
    state.add_node_log(first, "alice's own line")
    line = {"time": "2000-01-01T00:00:00+00:00", "level": "info", "message": BOBS_LINE}
    report(
        at_alice["bob"],
        run,
        batch(
            ("log", {"node": first.node_id, "line": line}),
            ("warning", {"node": first.node_id, "about": "bob", "message": FULL_WARNING}),
        ),
    )
    return run


def test_the_report_facts_hold_bobs_lines_marked_with_his_party(reported, alice):
    first = nodes_of(reported)[0]
    facts = next(node for node in run_facts(reported, alice.pk)["nodes"] if node["id"] == first)
    messages = [(line.get("at"), line["message"]) for line in facts["logs"]]
    assert messages[0] == ("bob", BOBS_LINE)  # the oldest line first, whoever reported it
    assert (None, "alice's own line") in messages
    assert facts["parts_reported"] is True
    assert [w["at"] for w in facts["warnings"] if w.get("at")] == ["bob"]
    assert FULL_WARNING not in str(facts)


def test_the_downloaded_report_shows_bobs_lines_as_the_canvas_does(reported, api_alice):
    html = api_alice.get(f"/api/v1/runs/{reported.pk}/report/").content.decode()
    assert f"@bob  {BOBS_LINE}" in html
    assert "alice&#x27;s own line" in html
    assert "were reported by that party" in html
    assert 'title="Reported by bob' in html  # the warning's mark
    assert FULL_WARNING not in html


def test_a_run_of_one_node_marks_no_line(alices_run, alice):
    run, _ = alices_run
    state.add_node_log(run.nodes.order_by("position").first(), "only alice here")
    html = render_run_report(run, alice.pk)
    assert "only alice here" in html
    assert "@" + "alice" not in html
    assert "reported by that party" not in html
