"""The signed-in user, users of a node, API tokens and sessions as the API shows them."""

from __future__ import annotations

from rest_framework import serializers

from console.accounts.models import ApiToken, LoginSession, User
from console.accounts.services import DEFAULT_EXPIRY_DAYS, MAX_EXPIRY_DAYS
from console.nodes.serializers import NodeRefSerializer


class MeSerializer(serializers.ModelSerializer):
    node = NodeRefSerializer(read_only=True, allow_null=True)
    is_node_admin = serializers.BooleanField(read_only=True)
    is_platform_admin = serializers.BooleanField(read_only=True)
    is_read_only = serializers.BooleanField(read_only=True)

    class Meta:
        model = User
        fields = ["username", "node", "role", "is_node_admin", "is_platform_admin", "is_read_only"]
        read_only_fields = fields


class PersonSerializer(serializers.ModelSerializer):
    """A user as their node's admins see them (never the password hash)."""

    node = NodeRefSerializer(read_only=True, allow_null=True)
    # Not an EmailField: users created without an address have "" (the schema must allow it).
    email = serializers.CharField(read_only=True, help_text="Email address; empty when unset.")

    class Meta:
        model = User
        fields = ["id", "username", "email", "node", "role", "is_active", "last_login"]
        read_only_fields = fields


class PersonCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=User.Role.choices)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    password = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        write_only=True,
        help_text="Initial password; leave empty to have one generated and returned once.",
    )
    node = serializers.CharField(
        required=False,
        default="",
        help_text="Node name; platform admins only (node admins create users of their node).",
    )


class PersonCreatedSerializer(PersonSerializer):
    initial_password = serializers.CharField(
        read_only=True, help_text="The generated password (shown once), or empty."
    )

    class Meta(PersonSerializer.Meta):
        fields = [*PersonSerializer.Meta.fields, "initial_password"]
        read_only_fields = fields


class PersonUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=User.Role.choices, required=False)
    is_active = serializers.BooleanField(required=False)


class PasswordResetSerializer(serializers.Serializer):
    password = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        write_only=True,
        help_text="The new password; leave empty to have one generated and returned once.",
    )


class PasswordResetResultSerializer(serializers.Serializer):
    new_password = serializers.CharField(read_only=True)


class ApiTokenSerializer(serializers.ModelSerializer):
    prefix = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "scope",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
        ]
        read_only_fields = fields

    def get_prefix(self, token: ApiToken) -> str:
        return f"pp_{token.prefix}"


class ApiTokenCreateSerializer(serializers.Serializer):
    # Checked by the service (one place for the rules, for the page, the API and the command).
    name = serializers.CharField(allow_blank=True)
    scope = serializers.CharField(default=ApiToken.Scope.READ)
    expires_in_days = serializers.IntegerField(
        default=DEFAULT_EXPIRY_DAYS, help_text=f"1 to {MAX_EXPIRY_DAYS} days."
    )


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(
        read_only=True,
        help_text="Send as 'Authorization: Token <token>'. Shown once: only a digest is kept.",
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class LoginSessionSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField()

    class Meta:
        model = LoginSession
        fields = ["id", "created_at", "ip_address", "user_agent", "current"]
        read_only_fields = fields

    def get_current(self, login: LoginSession) -> bool:
        request = self.context.get("request")
        session = getattr(request, "session", None)
        return session is not None and session.session_key == login.session_key
