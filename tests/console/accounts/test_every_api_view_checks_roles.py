"""Every API view carries the role-and-scope rule, so a viewer or a read token is refused a
change on any endpoint, including one added later with its own `permission_classes`."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.views import APIView

from console.accounts.permissions import RoleAndScope


def api_views(patterns=None, prefix: str = ""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            yield from api_views(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            view = getattr(pattern.callback, "cls", None)
            if view is not None and issubclass(view, APIView):
                yield prefix + str(pattern.pattern), view


def test_every_api_view_checks_role_and_token_scope():
    # The schema and its docs (api/schema/, api/docs/) only answer GET: not part of the rule.
    views = [(route, view) for route, view in api_views() if route.startswith("api/v1/")]
    assert len(views) > 30  # the walk found the API
    missing = [
        f"{route} ({view.__name__})"
        for route, view in views
        if not any(isinstance(p, RoleAndScope) for p in view().get_permissions())
    ]
    assert not missing, "API views without RoleAndScope: " + ", ".join(missing)
