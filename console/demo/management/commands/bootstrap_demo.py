"""Load the demo: three parties, their users, datasets and a joint project (idempotent).

Running it again changes nothing that exists and prints the logins again. The datasets go
through the same upload path as a browser upload (profiling, storage, audit): each step calls
the services acting as the demo user who owns it (`Actor.for_user`), so the audit log shows
alice uploading alice's table.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from console.accounts.models import User
from console.demo.data import demo_tables
from console.demo.loading import (
    DemoPipelineInvalid,
    authorise_table,
    save_checked_pipeline,
    upload_table,
)
from console.demo.pipeline import (
    BOB_PIPELINE_DESCRIPTION,
    BOB_PIPELINE_NAME,
    PIPELINE_DESCRIPTION,
    PIPELINE_NAME,
    bob_graph,
    demo_graph,
)
from console.nodes.models import Node
from console.projects import services as project_services
from console.projects.models import Project, ProjectMember
from workflows.actors import Actor
from workflows.models import Pipeline

NODES = [
    ("alice", "Alice Bank", "Alice Bank plc (retail lending)"),
    ("bob", "Bob Shop", "Bob Shop (e-commerce platform)"),
    ("carol", "Carol Insurance", "Carol Mutual Insurance"),
]
ADMIN = ("admin", "privpad-admin")
PROJECT_NAME = "Joint credit risk"
PROJECT_DESCRIPTION = (
    "Alice Bank, Bob Shop and Carol Insurance train a default-risk model on their shared "
    "customers without pooling data."
)


def demo_password(username: str) -> str:
    return f"privpad-{username}"


class Command(BaseCommand):
    help = "Create the demo nodes, users, datasets and project (safe to run again)."

    def handle(self, *args, **options) -> None:
        users = {
            name: self._node_admin(name, display, institution)
            for name, display, institution in NODES
        }
        self._platform_admin()
        tables = demo_tables()
        datasets = [upload_table(users[table.party], table) for table in tables]
        project = self._project(users["alice"], [users["bob"], users["carol"]])
        for table, dataset in zip(tables, datasets, strict=True):
            authorise_table(users[table.party], table, dataset, project)
        by_party = {dataset.node.name: dataset.pk for dataset in datasets}
        self._pipeline(
            users["alice"], project, PIPELINE_NAME, PIPELINE_DESCRIPTION, demo_graph(by_party)
        )
        self._pipeline(
            users["bob"], project, BOB_PIPELINE_NAME, BOB_PIPELINE_DESCRIPTION, bob_graph(by_party)
        )
        self._print_logins()

    def _node_admin(self, name: str, display: str, institution: str) -> User:
        node, _ = Node.objects.get_or_create(
            name=name, defaults={"display_name": display, "institution": institution}
        )
        node.ensure_storage()
        user = User.objects.filter(username=name).first()
        if user is None:
            user = User.objects.create_user(
                username=name,
                password=demo_password(name),
                node=node,
                role=User.Role.NODE_ADMIN,
                first_name=display,
            )
        return user

    def _platform_admin(self) -> None:
        username, password = ADMIN
        if not User.objects.filter(username=username).exists():
            User.objects.create_superuser(username=username, password=password, email="")

    def _project(self, owner: User, members: list[User]) -> Project:
        project = Project.objects.filter(name=PROJECT_NAME, owner_node=owner.node).first()
        if project is None:
            project = project_services.create_project(
                Actor.for_user(owner), PROJECT_NAME, PROJECT_DESCRIPTION
            )
        for member in members:
            if not ProjectMember.objects.filter(project=project, node=member.node).exists():
                project_services.add_member(Actor.for_user(owner), project, member.node)
        return project

    def _pipeline(self, owner: User, project: Project, name: str, description: str, graph):
        """A ready demo pipeline, checked before it is saved."""
        existing = Pipeline.objects.filter(project=project, name=name).first()
        if existing is not None:
            return existing
        try:
            return save_checked_pipeline(owner, project, name, description, graph)
        except DemoPipelineInvalid as problems:
            raise CommandError(f"the demo pipeline does not validate: {problems}") from None

    def _print_logins(self) -> None:
        write = self.stdout.write
        write(self.style.SUCCESS("PrivPad demo is ready."))
        write(f"  data directory: {settings.DATA_DIR}")
        write("  Demo logins (change these before sharing the console):")
        write(f"    platform admin        {ADMIN[0]:<8} / {ADMIN[1]}")
        for name, display, _ in NODES:
            write(f"    {display:<21} {name:<8} / {demo_password(name)}")
