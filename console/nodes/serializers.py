"""Nodes as the API shows them: public description only, never storage paths."""

from __future__ import annotations

from rest_framework import serializers

from console.nodes.models import Node


class NodeSerializer(serializers.ModelSerializer):
    """A node; `address` (remote agents) is shown to platform admins only."""

    class Meta:
        model = Node
        fields = ["name", "display_name", "institution", "kind", "address", "status", "created_at"]
        read_only_fields = ["created_at"]
        extra_kwargs = {"display_name": {"required": False}}

    def to_representation(self, instance: Node) -> dict:
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not request.user.is_superuser:
            data.pop("address", None)
        return data


class NodeUpdateSerializer(NodeSerializer):
    """The name is a node's identity (and its storage directory): fixed once registered."""

    class Meta(NodeSerializer.Meta):
        read_only_fields = ["name", "created_at"]


class NodeRefSerializer(serializers.ModelSerializer):
    """A short reference to a node, embedded in other objects."""

    class Meta:
        model = Node
        fields = ["name", "display_name", "institution"]
        read_only_fields = fields
