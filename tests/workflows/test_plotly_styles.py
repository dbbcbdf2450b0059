"""plotly.js's stylesheet served statically (the CSP refuses the <style> it would inject) and
the chart configuration shared by the run page and the HTML report."""

from __future__ import annotations

import pytest
from django.utils import translation

from workflows.reports import plotly_styles
from workflows.reports.plotly_config import plotly_config


def test_the_committed_stylesheet_is_the_installed_plotly_js_rules():
    path = plotly_styles.STATIC_ROOT / plotly_styles.static_path()
    assert path.exists(), "run `python -m workflows.reports.plotly_styles` and commit the file"
    assert path.read_text(encoding="utf-8") == plotly_styles.stylesheet(), (
        "plotly.js changed: run `python -m workflows.reports.plotly_styles` and commit the file"
    )
    assert (path.parent / "LICENSE").exists()


def test_the_rules_cover_the_mode_bar_with_selectors_expanded():
    rules = dict(plotly_styles.style_rules(plotly_styles.plotly_js()))
    assert "background:rgba(0,0,0,0)" in rules[".js-plotly-plot .plotly .modebar-btn"]
    assert ".plotly-notifier" in rules
    assert not any(selector.startswith(("X", "Y")) for selector in rules)


def test_a_plotly_js_without_its_rule_table_is_refused_by_name():
    with pytest.raises(plotly_styles.PlotlyStylesNotFound, match="style rules were not found"):
        plotly_styles.style_rules("var a={};for(k in a)console.log(k)")


def test_unquoted_keys_are_read_and_code_is_never_run():
    script = (
        'var T={"X a":"color:red;",Y:"top:0;"};for(k in T)s=k.replace(/^,/," ,")'
        '.replace(/X/g,".js-plotly-plot .plotly").replace(/Y/g,".plotly-notifier")'
    )
    assert plotly_styles.style_rules(script) == [
        (".js-plotly-plot .plotly a", "color:red;"),
        (".plotly-notifier", "top:0;"),
    ]
    hostile = script.replace('"color:red;"', "alert(1)")
    with pytest.raises(ValueError):
        plotly_styles.style_rules(hostile)


def test_the_mode_bar_never_offers_plotlys_cloud_and_speaks_the_readers_language():
    with translation.override("zh-hans"):
        config = plotly_config()
    assert "sendChartToCloud" in config["modeBarButtonsToRemove"]
    assert config["displaylogo"] is False
    dictionary = config["locales"][config["locale"]]["dictionary"]
    assert config["locale"] == "zh-hans"
    assert dictionary["Download plot as a PNG"] == "下载图表为 PNG"
    with translation.override("en"):
        assert plotly_config()["locales"]["en"]["dictionary"]["Zoom"] == "Zoom"
