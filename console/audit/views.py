"""The audit log page: node admins see their node's events, platform admins every event."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from console.audit.forms import AuditFilterForm
from console.audit.log import as_shown_to, events_visible_to

PAGE_SIZE = 50


@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (user.is_superuser or user.is_node_admin):
        raise Http404(_("The audit log is for node admins and platform admins."))
    form = AuditFilterForm(request.GET or None)
    events = form.filter(events_visible_to(user))
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = [as_shown_to(event, user) for event in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "filtered": form.is_bound and form.is_valid() and any(form.cleaned_data.values()),
    }
    return render(request, "audit/list.html", context)
