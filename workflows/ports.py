"""The boundary between workflows and the console (workflows never imports console).

Workflows needs a few facts that the console owns: which projects a user's node belongs to,
which parties a project has, and which datasets are authorised to it (owner party, file,
schema and column roles). It declares them here as plain dataclasses and one `ConsolePort`
protocol; the console implements the protocol (`console/datasets/pipeline_sources.py`) and
names the implementation in the `PRIVPAD_PIPELINE_PORT` setting. The port is resolved lazily by
dotted path, like Django's own back-ends, so the import arrow stays console -> workflows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Protocol

from workflows.actors import Actor
from workflows.components.schema import Column


@dataclass(frozen=True)
class ProjectFacts:
    id: int
    name: str
    archived: bool
    # Party (node) name -> node id, in membership order.
    parties: dict[str, int]
    # The node that owns the project (it manages members and may choose pipeline editors).
    owner_node: int | None = None
    # Parties whose node is disabled or offline -> that status: their data cannot be used.
    unavailable: dict[str, str] = field(default_factory=dict)
    # Network mode: the owner node's name when it is another installation. This node holds a
    # read-only copy; the project's pipelines are edited and run on that node.
    edited_on: str | None = None


@dataclass(frozen=True)
class SourceTable:
    """A dataset authorised to a project: what a `read/dataset` node reads."""

    dataset_id: int
    name: str
    party: str
    path: Path  # never serialised: storage paths stay on the server
    fingerprint: str  # content hash and roles: changes when the data or the roles change
    columns: tuple[Column, ...]
    encoding: str = "utf-8"
    rows: int | None = None
    authorization_id: int | None = None
    # The owner's standing policy on this authorisation (`workflows.disclosure.policy`).
    policy: dict = field(default_factory=dict)


class ConsolePort(Protocol):
    def visible_project_ids(self, user) -> list[int]:
        """Ids of the projects the node of `user` (a user or an Actor) is a member of."""

    def project_for_user(self, actor: Actor, project_id: int) -> ProjectFacts:
        """The project if the actor may see it; raise Http404 (audited) if not."""

    def project(self, project_id: int) -> ProjectFacts:
        """The project's facts, for executors that act on behalf of an earlier request."""

    def is_member(self, user, project_id: int) -> bool:
        """Whether the node of `user` (a user or an Actor) is a member of the project."""

    def sources(self, project_id: int) -> dict[int, SourceTable]:
        """Datasets currently authorised (not revoked) to the project, by dataset id, the most
        recently authorised first."""

    def runs_across_nodes(self, project_id: int) -> bool:
        """Network mode: whether the project's runs execute at its member nodes (a project
        shared with other installations), each node its own party."""

    def launch_across_nodes(self, run) -> None:
        """Start `run` (recorded, not started) at every participating node and queue this
        node's part; raises an error naming the nodes that could not take part (the run is
        then cancelled everywhere)."""

    def cancel_across_nodes(self, run) -> None:
        """Tell the other parties of `run` (started across nodes here) that it was cancelled:
        now, or once a node that does not answer can be reached."""

    def sensitive_action_permissions(self) -> list:
        """DRF permissions an API request needs, on top of the view's own, to make a
        sensitive change such as deciding on a disclosure plan (the console asks a session
        client for a recent sign-in)."""

    def audit(self, actor: Actor, action: str, target, node_id: int | None, **detail) -> None:
        """Record `action` ("download", or "access_denied" for a refusal) in the audit log,
        in the name of `actor`.

        `node_id` is the node owning the target (None: the actor's node).
        """


@cache
def console_port() -> ConsolePort:
    from django.conf import settings
    from django.utils.module_loading import import_string

    return import_string(settings.PRIVPAD_PIPELINE_PORT)()
