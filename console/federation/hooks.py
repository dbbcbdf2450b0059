"""What changes here that members of a shared project must learn, caught where it is saved.

Signals rather than edits to the datasets and workflows services: an authorisation granted,
re-versioned, revoked or given a new standing policy, a pipeline saved at the owner node, an
approval requested of another node's party, a replicated approval decided here. Each sends
after the commit (`outbox`), and only in network mode for projects shared across nodes.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from console.datasets.models import Authorization
from console.federation import publish
from workflows.disclosure.consent import approval_decided
from workflows.models import Approval, Pipeline


def _later(function, *args) -> None:
    if publish.network_mode():
        transaction.on_commit(lambda: function(*args))


@receiver(post_save, sender=Authorization, dispatch_uid="federation-authorization")
def authorization_saved(
    sender, instance: Authorization, created: bool, update_fields=None, **kwargs
) -> None:
    policy_changed = update_fields is not None and "disclosure_policy" in update_fields
    if instance.revoked_at is None and (created or policy_changed):
        _later(publish.publish_authorization, instance)
    elif not created and instance.revoked_at is not None:
        _later(_revoked, instance.pk)


def _revoked(authorization_id: int) -> None:
    authorization = Authorization.objects.filter(pk=authorization_id).first()
    # A new version replaced it: the members get that version, which replaces this one.
    if authorization is not None and authorization.successor is None:
        publish.publish_revocation(authorization)


@receiver(post_save, sender=Pipeline, dispatch_uid="federation-pipeline")
def pipeline_saved(sender, instance: Pipeline, **kwargs) -> None:
    if not hasattr(instance, "replica"):
        _later(publish.replicate_pipeline, instance)


@receiver(post_save, sender=Approval, dispatch_uid="federation-approval")
def approval_saved(sender, instance: Approval, created: bool, **kwargs) -> None:
    if created:
        _later(publish.request_approval, instance)


@receiver(approval_decided, dispatch_uid="federation-approval-decided")
def approval_was_decided(sender, approval: Approval, **kwargs) -> None:
    _later(publish.send_decision, approval)
