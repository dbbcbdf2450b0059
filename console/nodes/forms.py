"""The node registration form (platform admins only)."""

from django import forms

from console.nodes.models import Node


class NodeForm(forms.ModelForm):
    class Meta:
        model = Node
        fields = ["name", "display_name", "institution", "kind", "address"]
        help_texts = {
            "name": "Letters, digits, dashes; used in URLs and storage, e.g. 'alice'.",
            "display_name": "How the node appears to everyone, e.g. 'Alice Bank'.",
            "address": "Only for remote nodes: the address of the node's party agent.",
        }
