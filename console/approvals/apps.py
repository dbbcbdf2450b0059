from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "console.approvals"
    label = "approvals"
    verbose_name = "Approvals (message center)"
