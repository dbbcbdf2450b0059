"""Standing disclosure policies of authorisations: validation, saving (owner only) and the API.

The policy itself (what each setting means, how a plan entry is decided) is
`workflows.disclosure.policy`; this module checks what an owner submits, stores it on the
authorisation and audits the change. Only the owning node changes a policy, and only on an
active authorisation; other nodes of the project may read it (it explains their approvals).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from console.accounts.permissions import RoleAndScope
from console.accounts.roles import ensure_may_change
from console.accounts.sessions import RecentAuthentication, reauth_url, recently_authenticated
from console.api.schema import errors
from console.audit.log import Action, record
from console.datasets.access import get_authorization_for_user, get_dataset_for_owner
from console.datasets.models import Authorization
from workflows.actors import Actor
from workflows.disclosure.policy import CHOICES, Policy

DECISIONS = ("ids", "aggregates", "models", "row_level", "label_results")
FORM_CHOICES = [("allow", "Allow"), ("ask", "Ask me each time"), ("refuse", "Refuse")]
MIN_K, MAX_K = 2, 1_000_000


def clean_policy(data, project_parties: list[str] | None) -> dict:
    """The submitted policy as stored; ValidationError naming each bad setting.

    `project_parties`: the parties `row_level_to` may name; None for a policy another node
    published (`console.federation.wire`), whose owner checked them against its members: then
    any node names (as many as a project has members at most)."""
    if not isinstance(data, dict):
        raise ValidationError(_("the policy must be an object"), code="invalid_policy")
    problems = {}
    unknown = sorted(set(data) - {*DECISIONS, "aggregates_min_k", "row_level_to"})
    if unknown:
        problems["policy"] = f"unknown setting(s) {', '.join(unknown)}"
    for name in DECISIONS:
        if name in data and data[name] not in CHOICES:
            problems[name] = f"{data[name]!r} is not one of {', '.join(CHOICES)}"
    k = data.get("aggregates_min_k", Policy.aggregates_min_k)
    if isinstance(k, bool) or not isinstance(k, int) or not MIN_K <= k <= MAX_K:
        problems["aggregates_min_k"] = f"{k!r} is not a whole number from {MIN_K} to {MAX_K}"
    parties = data.get("row_level_to", [])
    if project_parties is None:
        if not isinstance(parties, list) or not _node_names(parties):
            problems["row_level_to"] = f"{str(parties)[:80]} is not a list of node names"
    elif not isinstance(parties, list) or any(p not in project_parties for p in parties):
        problems["row_level_to"] = (
            f"{parties!r} must list parties of the project ({', '.join(project_parties)})"
        )
    if problems:
        raise ValidationError(
            {
                key: ValidationError(message, code="invalid_policy")
                for key, message in problems.items()
            }
        )
    return Policy.from_dict(data).to_dict()


def _node_names(parties: list) -> bool:
    from console.federation.wire import MAX_MEMBERS, NODE_NAME

    return len(parties) <= MAX_MEMBERS and all(
        isinstance(p, str) and NODE_NAME.match(p) for p in parties
    )


def set_policy(actor: Actor, authorization: Authorization, data) -> Authorization:
    """Store the owner's standing policy on an active authorisation (audited)."""
    ensure_may_change(actor, "change disclosure policies")
    dataset = get_dataset_for_owner(actor, authorization.dataset_id)
    if not authorization.is_active:
        raise ValidationError(
            _("authorisation #%(pk)s was revoked: its policy cannot change")
            % {"pk": authorization.pk},
            code="revoked",
        )
    parties = list(authorization.project.memberships.values_list("node__name", flat=True))
    before = authorization.policy()
    authorization.disclosure_policy = clean_policy(data, parties)
    authorization.save(update_fields=["disclosure_policy"])
    changed = {
        key: [before[key], value]
        for key, value in authorization.disclosure_policy.items()
        if before.get(key) != value
    }
    record(
        actor,
        Action.POLICY_UPDATE,
        target=authorization,
        node=dataset.node,
        project=authorization.project_id,
        changes=changed,
    )
    return authorization


class AuthorizationPolicy(APIView):
    # A standing policy approves disclosures in advance: changing it is as sensitive as
    # deciding on a plan (a recent sign-in for session clients).
    permission_classes = [IsAuthenticated, RoleAndScope, RecentAuthentication]

    @extend_schema(
        summary="The standing disclosure policy of an authorisation",
        responses={200: OpenApiTypes.OBJECT, **errors(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(get_authorization_for_user(Actor.from_request(request), pk).policy())

    @extend_schema(
        summary="Set the standing disclosure policy of my node's authorisation",
        description="Each of ids, aggregates, models, row_level and label_results is allow, "
        "ask or refuse; aggregates_min_k is the smallest group an allowed aggregate may have; "
        "row_level_to limits allowed row-level data to these parties. Missing settings: ask.",
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT, **errors(400, 403, 404)},
    )
    def put(self, request: Request, pk: int) -> Response:
        actor = Actor.from_request(request)
        authorization = get_authorization_for_user(actor, pk)
        return Response(set_policy(actor, authorization, request.data).policy())


class PolicyForm(forms.Form):
    """The standing policy of one authorisation, as the dataset page edits it."""

    ids = forms.ChoiceField(choices=FORM_CHOICES, label=_("PSI membership of my keys"))
    aggregates = forms.ChoiceField(choices=FORM_CHOICES, label=_("Aggregates of my columns"))
    aggregates_min_k = forms.IntegerField(
        min_value=MIN_K, max_value=MAX_K, label=_("Smallest group an allowed aggregate may have")
    )
    models = forms.ChoiceField(choices=FORM_CHOICES, label=_("Models trained on my columns"))
    row_level = forms.ChoiceField(
        choices=FORM_CHOICES, label=_("Row-level data derived from my columns")
    )
    row_level_to = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Allowed row-level data only to"),
        help_text=_("None ticked: to every member."),
    )
    label_results = forms.ChoiceField(
        choices=FORM_CHOICES, label=_("Predictions and curves derived from my label")
    )

    def __init__(self, authorization: Authorization, *args, **kwargs):
        super().__init__(*args, initial=authorization.policy(), **kwargs)
        owner = authorization.dataset.node.name
        parties = authorization.project.memberships.values_list("node__name", flat=True)
        self.fields["row_level_to"].choices = [(p, p) for p in parties if p != owner]
        self.prefix = f"policy-{authorization.pk}"


def policy_forms(dataset) -> list[tuple[Authorization, PolicyForm]]:
    active = dataset.authorizations.filter(revoked_at__isnull=True).select_related("project")
    return [(authorization, PolicyForm(authorization)) for authorization in active]


@login_required
@require_POST
def update_policy(request: HttpRequest, pk: int) -> HttpResponse:
    authorization = get_object_or_404(Authorization.objects.select_related("dataset"), pk=pk)
    actor = Actor.from_request(request)
    dataset = get_dataset_for_owner(actor, authorization.dataset_id)
    back = f"{reverse('datasets:detail', args=[dataset.pk])}#disclosure"
    if not recently_authenticated(request):
        return redirect(reauth_url(back))  # as the API's RecentAuthentication; then resubmit
    form = PolicyForm(authorization, request.POST)
    if form.is_valid():
        try:
            set_policy(actor, authorization, form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("Standing policy for “%(project)s” saved.")
                % {"project": authorization.project.name},
            )
    else:
        messages.error(request, _("The policy was not saved: ") + form.errors.as_text())
    return redirect(back)
