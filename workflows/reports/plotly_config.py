"""The plotly.js configuration charts are drawn with, on the run page and in the HTML report.

The mode bar keeps what users ask for (download as PNG, zoom, pan, reset) and never the button
plotly.js 4 shows by default that uploads the chart's data to Plotly's cloud
("sendChartToCloud"): a report's numbers must not leave the console. Its titles are given in
the reader's language: plotly.js looks its English texts up in the locale's dictionary.
"""

from __future__ import annotations

from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _

MODE_BAR_REMOVED = (
    "sendChartToCloud",
    "select2d",
    "lasso2d",
    "autoScale2d",
    "hoverClosestCartesian",
    "hoverCompareCartesian",
    "toggleSpikelines",
)
# plotly.js's English texts for the buttons and notices left, as its locale dictionary keys.
PLOTLY_TEXTS = (
    gettext_noop("Download plot as a PNG"),
    gettext_noop("Zoom"),
    gettext_noop("Pan"),
    gettext_noop("Zoom in"),
    gettext_noop("Zoom out"),
    gettext_noop("Reset axes"),
    gettext_noop("Double-click to zoom back out"),
    gettext_noop("Taking snapshot - this may take a few seconds"),
    gettext_noop("Snapshot succeeded"),
    gettext_noop("Sorry, there was a problem downloading your snapshot!"),
)


def plotly_config() -> dict:
    """`Plotly.newPlot`'s config in the active language (callers add per-chart options)."""
    locale = get_language() or "en"
    return {
        "responsive": True,
        "displaylogo": False,
        "modeBarButtonsToRemove": list(MODE_BAR_REMOVED),
        "locale": locale,
        "locales": {locale: {"dictionary": {text: _(text) for text in PLOTLY_TEXTS}}},
    }
