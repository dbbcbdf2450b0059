"""The disclosure plan, consent states and approvals as the API returns them."""

from __future__ import annotations

from django.utils.translation import gettext
from rest_framework import serializers

from workflows.api.serializers import PipelineSerializer
from workflows.disclosure import consent
from workflows.disclosure.words import sentence
from workflows.models import Approval, LedgerEntry, Pipeline


class SourceColumnSerializer(serializers.Serializer):
    party = serializers.CharField()
    dataset = serializers.IntegerField()
    name = serializers.CharField()
    role = serializers.CharField()


class PlanEntrySerializer(serializers.Serializer):
    source = serializers.CharField(help_text="The party whose data it derives from.")
    recipient = serializers.CharField(help_text="The party that receives it.")
    node = serializers.CharField()
    component = serializers.CharField()
    port = serializers.CharField()
    form = serializers.ChoiceField(choices=["aggregate", "model", "ids", "row_level"])
    what = serializers.CharField()
    k = serializers.IntegerField(allow_null=True, help_text="Minimum rows per aggregate group.")
    columns = SourceColumnSerializer(many=True)
    rows = serializers.IntegerField(allow_null=True, help_text="Upper bound of rows involved.")
    decision = serializers.ChoiceField(choices=["allow", "ask", "refuse"])
    reason = serializers.CharField(allow_blank=True)
    sentence = serializers.CharField()


class ConsentStateSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=["policy", "not_requested", "pending", "approved", "rejected"]
    )
    approval = serializers.IntegerField(allow_null=True)


class DisclosurePlanSerializer(serializers.Serializer):
    fingerprint = serializers.CharField()
    min_group = serializers.IntegerField()
    entries = PlanEntrySerializer(many=True)
    consent = serializers.DictField(child=ConsentStateSerializer())


def plan_body(pipeline: Pipeline, plan) -> dict | None:
    """The plan with a sentence per entry and each source party's consent state."""
    if plan is None:
        return None
    body = plan.to_dict()
    for entry in body["entries"]:
        entry["sentence"] = sentence(entry, owner_view=False)
    body.pop("datasets")
    body["consent"] = consent.consent_states(pipeline, plan)
    return body


class ApprovalSerializer(serializers.ModelSerializer):
    pipeline_name = serializers.CharField(source="pipeline.name", read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)
    requested_by = serializers.SerializerMethodField(
        help_text='A user of this node, or "alice (at node alice)": a request another node '
        "sent, with its user's name as that node states it."
    )
    requested_at_node = serializers.CharField(
        source="origin_node",
        read_only=True,
        help_text="The node that sent the request (network mode); empty for one made here.",
    )
    decided_by = serializers.SerializerMethodField()
    may_decide = serializers.SerializerMethodField()
    void = serializers.SerializerMethodField(
        help_text="True when an authorisation the plan read was revoked since: it can never "
        "be used again."
    )

    class Meta:
        model = Approval
        fields = [
            "id",
            "pipeline",
            "pipeline_name",
            "project",
            "project_name",
            "party",
            "fingerprint",
            "plan",
            "status",
            "requested_by",
            "requested_at_node",
            "requested_at",
            "decided_by",
            "decided_at",
            "comment",
            "may_decide",
            "void",
        ]
        read_only_fields = fields

    def get_requested_by(self, approval: Approval) -> str:
        """A user of this node, or "alice (at node alice)" as the requesting node states it."""
        return approval.requester

    def get_decided_by(self, approval: Approval) -> str:
        """A user of this node, or "bob_admin (at node bob)" as the party's node states it."""
        return approval.decider

    def get_void(self, approval: Approval) -> bool:
        return approval.pk in consent.voided([approval])

    def get_may_decide(self, approval: Approval) -> bool:
        request = self.context.get("request")
        return bool(request and consent.may_decide(request.user, approval.party_node_id))


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "reject"])
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class LedgerEntrySerializer(serializers.ModelSerializer):
    what_label = serializers.SerializerMethodField(
        help_text="`what` in the reader's language (`what` itself stays as declared)."
    )

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "run",
            "recipient",
            "node_id",
            "component",
            "port",
            "kind",
            "what",
            "what_label",
            "min_group",
            "rows",
            "columns",
            "source_parties",
            "consents",
            "created_at",
        ]
        read_only_fields = fields

    def get_what_label(self, entry: LedgerEntry) -> str:
        return gettext(entry.what)


class ValidationResultSerializer(serializers.Serializer):
    """The answer of /pipelines/<id>/validate/ (for the schema)."""

    valid = serializers.BooleanField()
    problems = serializers.ListField(child=serializers.DictField())
    outputs = serializers.DictField(help_text="Inferred output schemas by node and port.")
    disclosure = DisclosurePlanSerializer(allow_null=True)


class PipelineDetailSerializer(PipelineSerializer):
    """A pipeline with its disclosure plan (for the schema of GET /pipelines/<id>/)."""

    disclosure = DisclosurePlanSerializer(allow_null=True, read_only=True)

    class Meta(PipelineSerializer.Meta):
        fields = [*PipelineSerializer.Meta.fields, "disclosure"]
