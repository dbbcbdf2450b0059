from django.apps import AppConfig


class NodesConfig(AppConfig):
    name = "console.nodes"
    label = "nodes"
    verbose_name = "Nodes"

    def ready(self) -> None:
        from console.nodes import checks  # noqa: F401 - registers the deployment-mode check
