"""The nodes page: every party of the deployment; platform admins register new ones here."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from console.nodes.forms import NodeForm
from console.nodes.models import Node
from console.nodes.services import register_node
from console.pages.errors import add_service_errors


@login_required
@require_http_methods(["GET", "POST"])
def node_list(request: HttpRequest) -> HttpResponse:
    is_admin = request.user.is_superuser
    if request.method == "POST" and not is_admin:
        return HttpResponseForbidden("Only platform admins register nodes.")
    form = NodeForm(request.POST or None) if is_admin else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            node = register_node(request, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("Node “%(node)s” registered.") % {"node": node.display_name}
            )
            return redirect("nodes:list")
    nodes = Node.objects.annotate(user_count=Count("users", distinct=True))
    return render(request, "nodes/list.html", {"nodes": nodes, "form": form})
