"""Template context shared by every page: the navigation entries and the current node."""

from django.http import HttpRequest

NAVIGATION = [
    ("pages:dashboard", "Dashboard"),
    ("projects:list", "Projects"),
    ("datasets:list", "Datasets"),
    ("nodes:list", "Nodes"),
    ("audit:list", "Audit log"),
]


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    entries = NAVIGATION
    if user is None or not user.is_authenticated:
        entries = []
    elif not (user.is_superuser or user.is_node_admin):
        entries = [entry for entry in NAVIGATION if entry[0] != "audit:list"]
    return {"nav_entries": entries, "current_node": getattr(user, "node", None)}
