"""The message center: disclosure approval requests, in words, and the decisions on them.

A request asks a source party to approve what a pipeline would disclose of its data (the plan
as its approvers see it, bound to the plan's fingerprint). Members of the project see the
requests of its pipelines; the source party's node admins (or its users with the approver
right) approve or reject them with a comment. The same rules as the API
(`workflows.api.approvals`, `workflows.disclosure.consent`).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from console.accounts.sessions import require_recent_login
from workflows.actors import Actor
from workflows.api.approvals import approvals_for, get_approval, to_decide
from workflows.disclosure import consent
from workflows.disclosure.words import for_owner
from workflows.models import Approval, Run

TABS = {"decide": "To decide", "all": "All requests"}


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    comment = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown to the requester and kept in the audit log."),
    )


def pending_count(user) -> int:
    """Pending requests the user decides on (the navigation badge), project votes included."""
    from console.federation.projects import pending_ballots

    return to_decide(user).count() + pending_ballots(user)


@login_required
def approval_list(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab", "decide")
    tab = tab if tab in TABS else "decide"
    approvals = to_decide(request.user) if tab == "decide" else approvals_for(request.user)
    approvals = list(approvals[:200])
    void = consent.voided(approvals)
    for approval in approvals:
        approval.is_void = approval.pk in void
    context = {"approvals": approvals, "tab": tab, "tabs": TABS}
    return render(request, "approvals/list.html", context)


@login_required
@require_recent_login(unsafe_only=True)
def approval_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    approval = get_approval(actor, pk)
    approval.is_void = bool(consent.voided([approval]))
    may_decide = consent.may_decide(request.user, approval.party_node_id) and not approval.is_void
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and may_decide and form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        try:
            consent.decide(actor, approval, approve, form.cleaned_data["comment"])
        except consent.DecisionError as error:
            messages.error(request, str(error))
        else:
            done = (
                _("You approved the disclosure plan of %(pipeline)s.")
                if approve
                else _("You rejected the disclosure plan of %(pipeline)s.")
            )
            messages.success(request, done % {"pipeline": approval.pipeline})
        return redirect("approvals:detail", pk=approval.pk)
    runs = Run.objects.filter(
        pipeline=approval.pipeline, disclosure_fingerprint=approval.fingerprint
    ).select_related("created_by")[:20]
    context = {
        "approval": approval,
        "form": form,
        "may_decide": may_decide,
        "runs": runs,
        "rows": list(zip(approval.plan["entries"], _sentences(approval.plan), strict=True)),
        "decisions": Approval.Decision,
    }
    return render(request, "approvals/detail.html", context)


def _sentences(plan: dict) -> list[str]:
    """The plan's sentences written now, in the reader's language; the stored ones (the
    requester's language) for entries that do not carry every fact, as a request replicated
    from another node's plan."""
    try:
        return for_owner(plan["entries"])
    except (KeyError, TypeError, ValueError):
        return plan["sentences"]
