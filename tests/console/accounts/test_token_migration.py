"""The data migration: DRF's plain single tokens become hashed, expiring admin-scope tokens;
former "member" users become analysts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from console.accounts.tokens import digest_of

# Later nodes migrations add columns the historical Node lacks; they have database defaults.
BEFORE = [("accounts", "0002_roles_api_tokens_login_sessions")]
AFTER = [("accounts", "0003_analyst_role_and_hashed_tokens")]
OLD_KEY = "0123456789abcdef0123456789abcdef01234567"


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_old_tokens_are_hashed_and_members_become_analysts():
    apps = migrate(BEFORE)
    try:
        node = apps.get_model("nodes", "Node").objects.create(name="n", display_name="N")
        user = apps.get_model("accounts", "User").objects.create(
            username="old", node_id=node.pk, role="member"
        )
        with connection.cursor() as cursor:
            cursor.execute(  # SQL both SQLite and PostgreSQL accept
                "CREATE TABLE IF NOT EXISTS authtoken_token "
                "(key varchar(40) PRIMARY KEY, created timestamp, user_id bigint)"
            )
            cursor.execute(
                "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)",
                [OLD_KEY, timezone.now(), user.pk],
            )
        apps = migrate(AFTER)
        token = apps.get_model("accounts", "ApiToken").objects.get()
        assert token.digest == digest_of(OLD_KEY)
        assert token.user_id == user.pk
        assert token.scope == "admin"
        assert timezone.now() < token.expires_at <= timezone.now() + timedelta(days=90)
        assert apps.get_model("accounts", "User").objects.get(pk=user.pk).role == "analyst"
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM authtoken_token")
            assert cursor.fetchone()[0] == 0  # the plain key is gone
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS authtoken_token")
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
