"""The component library: every module of `workflows.components.library` that defines a
module-level `COMPONENT` is registered. Adding a component is adding one such module.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from workflows.components.spec import Component, Registry


def discover(package: str = "workflows.components.library") -> list[Component]:
    module = importlib.import_module(package)
    found = []
    for info in sorted(pkgutil.iter_modules(module.__path__), key=lambda i: i.name):
        child = importlib.import_module(f"{package}.{info.name}")
        component = getattr(child, "COMPONENT", None)
        if isinstance(component, Component):
            found.append(component)
    return found


@cache
def registry() -> Registry:
    """The registry of the library (built once; duplicates raise at start-up)."""
    return Registry(discover())
