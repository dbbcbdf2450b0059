from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "console.projects"
    label = "projects"
    verbose_name = "Projects"
