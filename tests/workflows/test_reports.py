"""GET /api/v1/runs/<id>/report/: the self-contained HTML run report, by who is asking."""

from __future__ import annotations

import json
import re

import pytest

from console.datasets.models import Authorization
from tests.workflows.conftest import credit_frame, edge, make_dataset, node
from tests.workflows.runs import run_now
from workflows.models import Artifact, Status

pytestmark = pytest.mark.django_db

CHART_BLOCK = re.compile(r'<script id="(chart-\d+)" type="application/json">(.*?)</script>', re.S)
EVIL = '</script><script>alert("x")</script><img src=x onerror=alert(1)>'


def report_of(client, run) -> str:
    response = client.get(f"/api/v1/runs/{run.pk}/report/")
    assert response.status_code == 200, response.content[:500]
    return response.content.decode("utf-8")


def charts(html: str) -> dict[str, dict]:
    """Chart specs by title, parsed from the JSON blocks."""
    specs = [json.loads(body) for _, body in CHART_BLOCK.findall(html)]
    return {spec["title"]: spec for spec in specs}


@pytest.fixture
def finished_run(credit_pipeline, bob_user):
    run = run_now(credit_pipeline)
    assert run.status == Status.SUCCEEDED, run.message
    run.created_by = bob_user
    run.save(update_fields=["created_by"])
    return run


@pytest.fixture
def alice_report(finished_run, api_alice) -> str:
    return report_of(api_alice, finished_run)


def test_it_is_an_html_attachment_named_after_the_run(finished_run, api_bob):
    response = api_bob.get(f"/api/v1/runs/{finished_run.pk}/report/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    expected = f'attachment; filename="privpad-run-{finished_run.pk}.html"'
    assert response["Content-Disposition"] == expected


def test_it_carries_the_binary_evaluation_charts_with_the_reports_data(finished_run, alice_report):
    found = charts(alice_report)
    for title in ("ROC curve", "Precision-recall curve", "KS curve", "Lift curve"):
        assert title in found, sorted(found)
    assert "Score distribution" in found
    assert "Confusion matrix (threshold 0.5)" in found
    report = Artifact.objects.get(
        node_run__run=finished_run, node_run__node_id="eval", party="alice"
    )
    curves = json.loads(report.path.read_text())["curves"]
    roc = found["ROC curve"]["data"][0]
    assert roc["x"] == [p["fpr"] for p in curves]
    assert roc["y"] == [p["tpr"] for p in curves]


def test_it_shows_column_statistics_of_both_parties_quartiles_only_of_her_own(alice_report):
    specs = [json.loads(body) for _, body in CHART_BLOCK.findall(alice_report)]
    spreads = [s for s in specs if s["title"] == "Column statistics: min, quartiles, max"]
    names = {box["name"] for spread in spreads for box in spread["data"]}
    assert "income (alice)" in names, names
    assert "spend (bob)" not in names, names  # bob's min, quartiles and max stay his
    nulls = next(s for s in specs if s["title"] == "Missing values per column")
    assert "spend (bob)" in nulls["data"][0]["x"]


def test_it_lists_pipeline_project_parties_starter_timings_and_parameters(
    finished_run, alice_report, project, bob_user
):
    for text in ("Credit pipeline", project.name, "alice, bob", bob_user.username, "random_state"):
        assert text in alice_report, text
    assert alice_report.count('class="card" id="node-') == finished_run.nodes.count()
    assert "(credit, held by alice)" in alice_report
    assert re.search(r"evaluated \d+ rows at alice", alice_report)  # the eval log
    assert re.search(r'<td class="num">\d+\.\d\d s</td>', alice_report)


def test_it_embeds_plotly_and_loads_nothing_from_the_network(alice_report):
    assert "Plotly.newPlot" in alice_report
    assert len(alice_report) > 3_000_000  # plotly.min.js itself is inlined
    assert not re.search(r"<script[^>]*\bsrc\s*=", alice_report, re.I)
    assert not re.search(r"<link\b", alice_report, re.I)
    # plotly.js's own source mentions URLs (map tiles, its logo link, both unused here);
    # the document around it references none.
    markup = re.sub(r"<script[^>]*>.*?</script>", "", alice_report, flags=re.S)
    assert not re.search(r"https?:|//[a-z]", markup, re.I)


def test_table_outputs_show_schema_and_only_the_requesters_row_counts(finished_run, api_bob):
    html = report_of(api_bob, finished_run)
    assert "Your part (bob): 60 rows" in html
    assert "Your part (alice)" not in html
    assert "c001" not in html
    assert "Paris" not in html
    assert "<td>income</td><td>float</td><td>alice</td><td>feature</td>" in html


def test_it_escapes_hostile_pipeline_and_column_names(pipeline_factory, alice, project, api_alice):
    dataset = make_dataset(alice, "evil", credit_frame().rename(columns={"city": EVIL}))
    roles = {"id": "id", "age": "feature", EVIL: "feature", "y": "label", "score": "feature"}
    Authorization.objects.create(
        dataset=dataset, project=project, column_roles=roles | {"income": "feature"}
    )
    graph = {
        "nodes": [
            node("read", "read/dataset", dataset=dataset.pk),
            node("stats", "stats/table_statistics"),
        ],
        "edges": [edge("read", "output_ds", "stats", "input_ds")],
    }
    run = run_now(pipeline_factory(graph, name=EVIL))
    assert run.status == Status.SUCCEEDED, run.message
    html = report_of(api_alice, run)
    assert EVIL not in html
    assert "<img src=x" not in html
    assert '<script>alert("x")' not in html
    assert "&lt;/script&gt;&lt;script&gt;alert(&quot;x&quot;)" in html
    names = charts(html)["Missing values per column"]["data"][0]["x"]
    assert f"{EVIL} (alice)" in names, names


def test_an_outsider_gets_404(finished_run, api_carol):
    assert api_carol.get(f"/api/v1/runs/{finished_run.pk}/report/").status_code == 404


def test_anonymous_callers_get_401(finished_run, api_anon):
    assert api_anon.get(f"/api/v1/runs/{finished_run.pk}/report/").status_code == 401


def test_an_unknown_run_is_404(api_alice):
    assert api_alice.get("/api/v1/runs/999999/report/").status_code == 404


def test_a_failed_run_still_reports_what_happened(pipeline_factory, credit, api_alice):
    graph = {
        "nodes": [
            node("read", "read/dataset", dataset=credit.pk),
            node("eval", "ml.eval/binary_classification", label="y", prediction="age"),
        ],
        "edges": [edge("read", "output_ds", "eval", "input_ds")],
    }
    credit.path.write_text(credit_frame().assign(y=2).to_csv(index=False))
    run = run_now(pipeline_factory(graph))
    assert run.status == Status.FAILED
    html = report_of(api_alice, run)
    assert "the label must be 0 or 1" in html
    assert "ROC curve" not in html
