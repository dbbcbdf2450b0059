"""The database tests really run on PostgreSQL when `--postgres` is given."""

import pytest
from django.db import connection


@pytest.mark.django_db
def test_it_uses_the_engine_the_session_asked_for(request):
    vendor = "postgresql" if request.config.getoption("--postgres") else "sqlite"
    assert connection.vendor == vendor
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            assert cursor.fetchone()[0].startswith("15.")
            cursor.execute("SHOW fsync")
            assert cursor.fetchone()[0] == "off"
