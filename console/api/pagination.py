"""Limit/offset pagination with bounds: `?limit=` at most MAX_LIMIT, `?offset=` at most MAX_ID.

DRF caps `limit` only when `max_limit` is set, and never caps `offset`; a number beyond a
64-bit integer then overflows the database driver (a 500). Larger values are clamped: a limit
to the largest page, an offset past every row to an empty page.
"""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination

from workflows.api.fields import MAX_ID

MAX_LIMIT = 1000


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = MAX_LIMIT

    def get_offset(self, request) -> int:
        return min(super().get_offset(request), MAX_ID)
