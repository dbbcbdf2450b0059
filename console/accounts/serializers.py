"""The signed-in user and API tokens as the API shows them."""

from __future__ import annotations

from rest_framework import serializers

from console.accounts.models import User
from console.nodes.serializers import NodeRefSerializer


class MeSerializer(serializers.ModelSerializer):
    node = NodeRefSerializer(read_only=True, allow_null=True)
    is_node_admin = serializers.BooleanField(read_only=True)
    is_platform_admin = serializers.BooleanField(read_only=True)

    class Meta:
        model = User
        fields = ["username", "node", "role", "is_node_admin", "is_platform_admin"]
        read_only_fields = fields


class TokenSerializer(serializers.Serializer):
    username = serializers.CharField(read_only=True)
    token = serializers.CharField(
        read_only=True,
        help_text="Send as 'Authorization: Token <token>'. Shown once; any older token stops "
        "working.",
    )
