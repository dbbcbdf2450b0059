"""Template context shared by every page: the navigation entries and the current node."""

from typing import NamedTuple

from django.http import HttpRequest


class NavEntry(NamedTuple):
    url_name: str
    label: str

    @property
    def namespace(self) -> str:
        return self.url_name.split(":", 1)[0]


NAVIGATION = [
    NavEntry("pages:dashboard", "Dashboard"),
    NavEntry("projects:list", "Projects"),
    NavEntry("runs:list", "Runs"),
    NavEntry("datasets:list", "Datasets"),
    NavEntry("approvals:list", "Approvals"),
    NavEntry("nodes:list", "Nodes"),
    NavEntry("audit:list", "Audit log"),
]


def navigation(request: HttpRequest) -> dict:
    """`nav_entries` for this user, `nav_section` (the current app) and `current_node`."""
    user = getattr(request, "user", None)
    entries = NAVIGATION
    if user is None or not user.is_authenticated:
        entries = []
    elif not (user.is_superuser or user.is_node_admin):
        entries = [entry for entry in NAVIGATION if entry.url_name != "audit:list"]
    match = getattr(request, "resolver_match", None)
    section = match.namespace if match is not None else ""
    return {
        "nav_entries": entries,
        # Disclosure requests waiting for this user's decision (the "Approvals" badge).
        "approvals_pending": _approvals_pending(user),
        # Pipelines live inside projects: their pages keep "Projects" highlighted.
        "nav_section": "projects" if section == "pipelines" else section,
        "current_node": getattr(user, "node", None),
    }


def _approvals_pending(user) -> int:
    if user is None or not user.is_authenticated or user.node_id is None:
        return 0
    from console.approvals.views import pending_count

    return pending_count(user)
