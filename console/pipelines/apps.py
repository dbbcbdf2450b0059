from django.apps import AppConfig


class PipelinesConfig(AppConfig):
    name = "console.pipelines"
    label = "pipeline_pages"
    verbose_name = "Pipeline pages"
