"""Data: former "member" users become analysts; former DRF tokens become hashed API tokens.

A DRF token (`authtoken_token`, plain 40-hex keys) keeps working as an `admin`-scoped token
named "Migrated token" that expires 90 days after this migration; the plain key is then deleted.
The table is read with SQL because `rest_framework.authtoken` is no longer installed.
"""

import hashlib
from datetime import timedelta

from django.db import migrations
from django.utils import timezone

MIGRATED_TOKEN_LIFETIME = timedelta(days=90)


def members_to_analysts(apps, schema_editor):
    apps.get_model("accounts", "User").objects.filter(role="member").update(role="analyst")


def analysts_to_members(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    User.objects.filter(role__in=["analyst", "approver", "viewer"]).update(role="member")


def hash_drf_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("accounts", "ApiToken")
    expires_at = timezone.now() + MIGRATED_TOKEN_LIFETIME
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, user_id FROM authtoken_token")
        rows = cursor.fetchall()
        for key, user_id in rows:
            ApiToken.objects.create(
                user_id=user_id,
                name="Migrated token",
                prefix=key[:8],
                digest=hashlib.sha256(key.encode()).hexdigest(),
                scope="admin",
                expires_at=expires_at,
            )
        cursor.execute("DELETE FROM authtoken_token")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_roles_api_tokens_login_sessions")]

    operations = [
        migrations.RunPython(members_to_analysts, analysts_to_members),
        migrations.RunPython(hash_drf_tokens, migrations.RunPython.noop),
    ]
