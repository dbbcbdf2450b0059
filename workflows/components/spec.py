"""Component declarations and the registry that holds them.

A component is one declaration: key `domain/name`, version, category, label, description,
typed input and output ports, parameters, plus three functions:

- `infer(ctx: InferContext) -> {output port: ArtifactInfo}`: schema propagation; states the
  columns (name, type, owner party, role) of every output from the inputs' infos and the
  parameters, so validation and column pickers work before anything runs;
- `check(ctx: InferContext) -> [message]` (optional): cross-parameter rules;
- `run(ctx: RunContext) -> None`: the computation, reading inputs and writing outputs per party;
- `disclosure`: for every output port, who receives it and what it carries about each source
  party's columns (`workflows.components.disclosure`).

The registry is a plain table keyed by (key, version); it rejects duplicates and components
whose outputs do not all declare their disclosure. It holds no ORM.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workflows.components.disclosure import Disclosure, check_declared
from workflows.components.params import Param, ParamEnv
from workflows.components.schema import ArtifactInfo, PortType

CATEGORIES = ("io", "data_prep", "data_filter", "preprocessing", "stats", "ml", "evaluation")


@dataclass(frozen=True)
class Port:
    name: str
    types: tuple[PortType, ...]
    label: str = ""
    description: str = ""
    optional: bool = False

    def describe(self) -> dict:
        return {
            "name": self.name,
            "types": [str(kind) for kind in self.types],
            "type_labels": [kind.label for kind in self.types],
            "label": self.label or self.name.replace("_", " ").capitalize(),
            "description": self.description,
            "optional": self.optional,
        }


@dataclass(frozen=True)
class InferContext:
    """Parameters (cleaned) and input infos a component's `infer`/`check` reason about."""

    params: dict[str, Any]
    inputs: dict[str, ArtifactInfo | None]
    env: ParamEnv


@dataclass(frozen=True)
class Component:
    domain: str
    name: str
    version: str
    category: str
    label: str
    description: str
    infer: Callable[[InferContext], dict[str, ArtifactInfo]]
    run: Callable[[Any], None]
    inputs: tuple[Port, ...] = ()
    outputs: tuple[Port, ...] = ()
    params: tuple[Param, ...] = ()
    check: Callable[[InferContext], list[str]] | None = None
    disclosure: Disclosure | None = None
    tags: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"component {self.key}: unknown category {self.category!r}")
        names = [param.name for param in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"component {self.key}: duplicate parameter names {names}")
        ports = [port.name for port in self.inputs + self.outputs]
        if len(set(ports)) != len(ports):
            raise ValueError(f"component {self.key}: duplicate port names {ports}")

    @property
    def key(self) -> str:
        return f"{self.domain}/{self.name}"

    def input(self, name: str) -> Port | None:
        return next((port for port in self.inputs if port.name == name), None)

    def output(self, name: str) -> Port | None:
        return next((port for port in self.outputs if port.name == name), None)

    def param(self, name: str) -> Param | None:
        return next((param for param in self.params if param.name == name), None)

    def describe(self) -> dict:
        return {
            "key": self.key,
            "domain": self.domain,
            "name": self.name,
            "version": self.version,
            "category": self.category,
            "label": self.label,
            "description": self.description,
            "inputs": [port.describe() for port in self.inputs],
            "outputs": [port.describe() for port in self.outputs],
            "params": [param.describe() for param in self.params],
        }


class DuplicateComponent(ValueError):
    """Two declarations claim the same key and version."""


class Registry:
    def __init__(self, components: list[Component] | tuple[Component, ...] = ()):
        self._components: dict[tuple[str, str], Component] = {}
        for component in components:
            self.register(component)

    def register(self, component: Component) -> Component:
        ident = (component.key, component.version)
        if ident in self._components:
            raise DuplicateComponent(
                f"component {component.key} version {component.version} is already registered"
            )
        check_declared(component)
        self._components[ident] = component
        return component

    def get(self, key: str, version: str | None = None) -> Component | None:
        """The component `key` at `version`, or its latest version when none is given."""
        if version is not None:
            return self._components.get((key, version))
        versions = [c for (k, _), c in self._components.items() if k == key]
        return max(versions, key=lambda c: _version_tuple(c.version), default=None)

    def __iter__(self):
        return iter(sorted(self._components.values(), key=lambda c: (c.category, c.key)))

    def __len__(self) -> int:
        return len(self._components)

    def catalogue(self) -> list[dict]:
        return [component.describe() for component in self]


def _version_tuple(version: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in version.split("."))
