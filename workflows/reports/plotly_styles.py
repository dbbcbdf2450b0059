"""plotly.js's own stylesheet as a static file, for pages whose CSP refuses injected styles.

plotly.js adds its library-wide CSS rules (mode bar, hover labels, notifier, ...) when it loads,
through a `<style id="plotly.js-style-global">` it creates. Under the console's
Content-Security-Policy (styles only from this site or with the page's nonce) that element is
refused, so the mode bar drew as unstyled grey buttons. Since plotly.js 2.35 (plotly.js PR
#7109) an element with that id and the class `no-inline-styles` already in the page tells
plotly.js to inject nothing, and the mode bar's hover colours are set on the elements through
the CSSOM, which CSP allows. What remains is to serve the rules as a stylesheet: plotly.js
stopped shipping its `plotly.css` with its esbuild migration (plotly.js issue #7543), so this
module writes it from the rules inside the installed plotly.min.js (the build's `plotcss`
table), where `X` stands for `.js-plotly-plot .plotly` and `Y` for `.plotly-notifier`.

The file is committed under `static/vendor/plotly.js-VERSION/plotly.css`;
`python -m workflows.reports.plotly_styles` rewrites it (a test fails when the installed
plotly.js no longer matches it).
"""

from __future__ import annotations

import ast
import re
import sys
from functools import cache
from pathlib import Path

# The loop that adds each rule: `for(k in RULES)s=k.replace(/^,/," ,").replace(/X/g,...)...`.
_RULES_LOOP = re.compile(
    r"for\((\w+) in (\w+)\)\w+=\1\.replace\(/\^,/,\" ,\"\)"
    r"\.replace\(/X/g,\"(?P<x>[^\"]+)\"\)\.replace\(/Y/g,\"(?P<y>[^\"]+)\"\)"
)
_VERSION = re.compile(r"plotly\.js v(\d+\.\d+\.\d+)")
STATIC_ROOT = Path(__file__).resolve().parents[2] / "static"


class PlotlyStylesNotFound(RuntimeError):
    """The installed plotly.js does not hold its style rules where this module looks."""


@cache
def plotly_js() -> str:
    """The installed plotly package's plotly.min.js (the one pages and reports use)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


@cache
def plotly_version() -> str:
    found = _VERSION.search(plotly_js()[:500])
    if found is None:
        raise PlotlyStylesNotFound("plotly.min.js does not state its version in its header")
    return found.group(1)


def static_path() -> str:
    """The stylesheet's path under `static/` for the installed plotly.js."""
    return f"vendor/plotly.js-{plotly_version()}/plotly.css"


def style_rules(script: str) -> list[tuple[str, str]]:
    """plotly.js's (selector, declarations) pairs, selectors expanded, in its order."""
    loop = _RULES_LOOP.search(script)
    if loop is None:
        raise PlotlyStylesNotFound("plotly.min.js's style rules were not found")
    name = loop.group(2)
    start = script.rfind(f"{name}={{", 0, loop.start())
    table = _string_table(script[start + len(name) + 1 : loop.start()].rstrip(";"))
    expand = {"X": loop.group("x"), "Y": loop.group("y")}
    return [
        (re.sub("[XY]", lambda m: expand[m.group(0)], re.sub("^,", " ,", key)), value)
        for key, value in table.items()
    ]


def _string_table(literal: str) -> dict[str, str]:
    """A JavaScript object literal of strings, read as data (parsed, never run). Its syntax is
    Python's, but for keys the minifier left unquoted (`{Y:"..."}`), read as their names."""
    try:
        node = ast.parse(literal, mode="eval").body
    except SyntaxError as error:
        raise PlotlyStylesNotFound(f"plotly.min.js's style rules did not parse: {error}") from None
    if not isinstance(node, ast.Dict):
        raise PlotlyStylesNotFound("plotly.min.js's style rules are not an object literal")
    table = {}
    for key, value in zip(node.keys, node.values, strict=True):
        name = key.id if isinstance(key, ast.Name) else ast.literal_eval(key)
        table[name] = ast.literal_eval(value)
    return table


def stylesheet() -> str:
    """The rules as plotly.js's injected sheet holds them: it inserts each at index 0, so the
    last in its table comes first (which matters where two selectors tie)."""
    rules = style_rules(plotly_js())[::-1]
    rules = "\n".join(f"{selector} {{{body}}}" for selector, body in rules)
    return (
        f"/* plotly.js v{plotly_version()}'s library-wide style rules, written from its\n"
        " * plotly.min.js by workflows/reports/plotly_styles.py. plotly.js: Copyright Plotly,\n"
        " * Inc., MIT licence (LICENSE beside this file). */\n"
        f"{rules}\n"
    )


if __name__ == "__main__":
    target = STATIC_ROOT / static_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(stylesheet(), encoding="utf-8")
    sys.stdout.write(f"{target}\n")
