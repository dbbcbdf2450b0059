"""The approvals API: the message center's requests, and the decisions on them.

Members of a project see the approvals of its pipelines (what was asked, of whom, and the
decision); only a source party's node admins (or its users with the approver right) decide.
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workflows.actors import Actor
from workflows.api.disclosure import ApprovalSerializer, DecisionSerializer
from workflows.disclosure import consent
from workflows.models import Approval
from workflows.ports import console_port

ERRORS = {
    400: OpenApiResponse(description="Invalid input"),
    401: OpenApiResponse(description="Not authenticated"),
    403: OpenApiResponse(
        description="You do not decide for this party, or (deciding, signed in with a session) "
        "your sign-in is not recent enough: reauthentication_required"
    ),
    404: OpenApiResponse(description="Unknown, or not visible to you"),
    409: OpenApiResponse(description="The approval already has this decision"),
}


def approvals_for(user):
    ids = console_port().visible_project_ids(user)
    return Approval.objects.filter(project_id__in=ids).select_related(
        "pipeline", "project", "requested_by", "decided_by"
    )


def to_decide(user):
    """Pending approvals `user` may decide on (the message center's badge)."""
    if not getattr(user, "is_authenticated", False) or user.node_id is None:
        return Approval.objects.none()
    pending = approvals_for(user).filter(
        party_node_id=user.node_id, status=Approval.Decision.PENDING
    )
    return pending if consent.may_decide(user, user.node_id) else pending.none()


def get_approval(actor: Actor, pk) -> Approval:
    approval = approvals_for(actor).filter(pk=pk).first() if str(pk).isdigit() else None
    if approval is None:
        raise Http404(_("No such approval."))
    return approval


class ApprovalList(APIView):
    @extend_schema(
        summary="Approval requests of my node's projects, newest first",
        parameters=[
            OpenApiParameter("status", str, enum=[s.value for s in Approval.Decision]),
            OpenApiParameter(
                "mine", bool, description="Only those my node decides (data of my node)."
            ),
        ],
        responses={200: ApprovalSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        approvals = approvals_for(request.user)
        wanted = request.query_params.get("status")
        if wanted in Approval.Decision.values:
            approvals = approvals.filter(status=wanted)
        if request.query_params.get("mine") in ("1", "true"):
            approvals = approvals.filter(party_node_id=request.user.node_id)
        data = ApprovalSerializer(approvals[:200], many=True, context={"request": request}).data
        return Response(data)


class ApprovalDetail(APIView):
    def get_permissions(self):
        # Deciding on a disclosure plan is a sensitive action: the console's extra rule
        # (a recent sign-in for session clients) applies on top of the usual ones.
        return [*super().get_permissions(), *console_port().sensitive_action_permissions()]

    @extend_schema(
        summary="An approval request: the plan its party saw, in words",
        responses={200: ApprovalSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        approval = get_approval(Actor.from_request(request), pk)
        return Response(ApprovalSerializer(approval, context={"request": request}).data)

    @extend_schema(
        summary="Approve or reject the plan (with a comment); also withdraws an approval",
        request=DecisionSerializer,
        responses={200: ApprovalSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = Actor.from_request(request)
        approval = get_approval(actor, pk)
        serializer = DecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        consent.decide(actor, approval, data["decision"] == "approve", data["comment"])
        return Response(ApprovalSerializer(approval, context={"request": request}).data)
