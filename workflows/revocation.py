"""Consent that takes effect at once: stop the runs whose consent was withdrawn.

A run reads parties' data and delivers outputs to parties on the strength of consents that can
be withdrawn while it runs: a dataset's authorisation to the project, a node's membership, a
node being enabled, an owner's approval of the run's disclosure plan. When one goes, the
console calls here (after its change is committed) and every pending or running run that
depends on it is revoked:

- the run's `revoked_at` and `revoke_reason` are set, and its cancel token is woken, so the
  executor stops it at its next progress point (the token also polls the database, for runs
  executing in another process);
- the executor then discards the running node's outputs, marks the remaining nodes and the run
  "revoked", and withdraws anything recorded at or after `revoked_at`
  (`workflows.executor.withdraw_outputs`): nothing further is delivered to anyone;
- a run not yet started is revoked at once and never starts.

Which runs depend on what: a dataset's runs are those whose snapshot reads it (a dataset
parameter of any node); an approval's runs are those that started on it (their consent from
that party is that approval); a member's removal or a node's disabling affects every active run of
the project, since every run delivers reports to all of the project's parties. Reasons are
shown to every party, so they name datasets and parties, never data values.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from workflows import events, state
from workflows.components import registry
from workflows.messages import Storable, stored, stored_within, translatable
from workflows.models import Approval, Run, Status

ACTIVE = (Status.PENDING, Status.RUNNING)


def active_runs(project_ids: Iterable[int]):
    return Run.objects.filter(pipeline__project_id__in=list(project_ids), status__in=ACTIVE)


def reads_dataset(snapshot: dict, dataset_id: int) -> bool:
    """Whether a run's graph snapshot reads `dataset_id` through a dataset parameter."""
    for entry in snapshot.get("nodes", []):
        component = registry().get(entry.get("component", ""), entry.get("version"))
        params = entry.get("params") or {}
        for param in component.params if component else ():
            if param.kind == "dataset" and params.get(param.name) == dataset_id:
                return True
    return False


def revoke_runs(runs: Iterable[Run], reason: Storable) -> list[int]:
    """Revoke these runs (those already finished are left alone); returns the ids revoked.

    Call it from the code that withdraws a consent, e.g. a rejected approval of a plan:
    `revoke_runs(runs_using_the_plan, translatable("%(party)s rejected the plan", party=...))`;
    the reason is a message (`workflows.messages`), read in each reader's language.
    """
    revoked = []
    for run in runs:
        now = timezone.now()
        changed = Run.objects.filter(pk=run.pk, status__in=ACTIVE, revoked_at__isnull=True)
        if changed.update(revoked_at=now, revoke_reason=stored_within(reason, 300)):
            revoked.append(run.pk)
            transaction.on_commit(lambda pk=run.pk: _stop(pk, reason))
    return revoked


def _stop(run_id: int, reason: Storable) -> None:
    state.signal_cancel(run_id)
    # A run nobody has claimed yet never starts.
    message = translatable("stopped before it started: %(reason)s", reason=stored(reason))
    state.stop_pending_run(run_id, Status.REVOKED, message, message)


def dataset_withdrawn(project_id: int, dataset_id: int, reason: Storable) -> list[int]:
    """An authorisation of `dataset_id` to the project was revoked: stop the runs reading it."""
    runs = [run for run in active_runs([project_id]) if reads_dataset(run.snapshot, dataset_id)]
    return revoke_runs(runs, reason)


def project_membership_changed(project_id: int, reason: Storable) -> list[int]:
    """A member left the project: stop its active runs and close the sockets of users who no
    longer belong."""
    revoked = revoke_runs(active_runs([project_id]), reason)
    transaction.on_commit(lambda: events.membership_changed(project_id))
    return revoked


def node_withdrawn(project_ids: Iterable[int], reason: Storable) -> list[int]:
    """A node was disabled (or went offline): stop the active runs of its projects, and have
    their run pages check that their users still belong (a disabled node's do not)."""
    project_ids = list(project_ids)
    revoked = revoke_runs(active_runs(project_ids), reason)
    for project_id in project_ids:
        transaction.on_commit(lambda pk=project_id: events.membership_changed(pk))
    return revoked


def on_approval_decided(sender, approval, **kwargs) -> None:
    """`approval_decided` receiver: a rejection revokes the runs started on the approval."""
    if approval.status == Approval.Decision.REJECTED:
        approval_rejected(approval)


def approval_rejected(approval) -> list[int]:
    """An owner rejected a plan (or withdrew its approval): stop the runs started on it."""
    candidates = Run.objects.filter(
        pipeline_id=approval.pipeline_id,
        status__in=ACTIVE,
        disclosure_fingerprint=approval.fingerprint,
    )
    runs = [run for run in candidates if (run.consents or {}).get(approval.party) == approval.pk]
    reason = translatable("the disclosure plan was rejected by %(parties)s", parties=approval.party)
    return revoke_runs(runs, reason)
