from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "console.pages"
    label = "pages"
    verbose_name = "Pages"

    def ready(self) -> None:
        from console import checks  # noqa: F401 - registers the production-settings checks
