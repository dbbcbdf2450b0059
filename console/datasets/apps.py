from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "console.datasets"
    label = "datasets"
    verbose_name = "Datasets"
