from django.apps import AppConfig


class NodesConfig(AppConfig):
    name = "console.nodes"
    label = "nodes"
    verbose_name = "Nodes"
