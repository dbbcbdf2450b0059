"""Member and dataset counts of projects, as subqueries.

`projects_visible_to` filters through the memberships table; a plain `Count("memberships")` on
top of that join would count only the user's own membership, hence the correlated subqueries.
"""

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from console.datasets.models import Authorization
from console.projects.models import ProjectMember


def _count(queryset: QuerySet) -> Coalesce:
    counted = queryset.order_by().values("project").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def with_counts(projects: QuerySet) -> QuerySet:
    """Annotate `member_count` and `dataset_count` (active authorisations) on each project."""
    return projects.annotate(
        member_count=_count(ProjectMember.objects.filter(project=OuterRef("pk"))),
        dataset_count=_count(
            Authorization.objects.filter(project=OuterRef("pk"), revoked_at__isnull=True)
        ),
    )
