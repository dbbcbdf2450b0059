from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    label = "workflows"
    verbose_name = "Pipelines"

    def ready(self) -> None:
        from django.core.signals import request_started

        from workflows import recovery, revocation
        from workflows.components import registry
        from workflows.disclosure.consent import approval_decided

        # Build the library now so a duplicate component key fails at start-up, not mid-run.
        registry()
        request_started.connect(
            recovery.recover_on_first_request, dispatch_uid="workflows-recovery"
        )
        # A rejected (or withdrawn) approval stops the runs started on it.
        approval_decided.connect(
            revocation.on_approval_decided, dispatch_uid="workflows-approval-rejected"
        )
