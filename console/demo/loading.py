"""Loading a demo table into a node, as its owner would: one place for both demo loaders.

`bootstrap_demo` (embedded: every node in one console) and `network_demo` (one node per
installation) upload the same tables through the browser's upload path (profiling, storage,
audit), authorise them with the same column roles and standing policies, and save the demo
pipeline only once it validates.
"""

from __future__ import annotations

from django.core.files.uploadedfile import TemporaryUploadedFile

from console.accounts.models import User
from console.datasets import services as dataset_services
from console.datasets.models import Authorization, Dataset
from console.datasets.policies import set_policy
from console.demo.data import DemoTable
from console.demo.pipeline import DEMO_POLICIES, KEY
from console.projects.models import Project
from workflows import services as workflow_services
from workflows.actors import Actor
from workflows.graph import Graph
from workflows.models import Pipeline


class DemoPipelineInvalid(Exception):
    """The demo pipeline does not validate here; the message lists each problem by node."""


def save_checked_pipeline(
    owner: User, project: Project, name: str, description: str, graph: Graph
) -> Pipeline:
    """The demo pipeline saved in `project`, after validating it as the canvas would."""
    pipeline = Pipeline(
        project=project, name=name, description=description, graph=graph.to_dict(), created_by=owner
    )
    checked = workflow_services.validate_pipeline(pipeline, graph)
    if not checked.ok:
        raise DemoPipelineInvalid("; ".join(f"{p.node}: {p.message}" for p in checked.problems))
    pipeline.save()
    return pipeline


def upload_table(user: User, table: DemoTable) -> Dataset:
    """`table` as a dataset of `user`'s node (the existing one of that name, if any)."""
    existing = Dataset.objects.filter(node=user.node, name=table.name).first()
    if existing is not None:
        return existing
    upload = TemporaryUploadedFile(f"{table.name}.csv", "text/csv", 0, "utf-8")
    try:
        table.frame.to_csv(upload.file, index=False)
        upload.file.flush()
        upload.size = upload.file.tell()
        upload.file.seek(0)
        return dataset_services.create_dataset(
            Actor.for_user(user), upload, table.name, table.description
        )
    finally:
        upload.close()


def column_roles(table: DemoTable, columns: list[str]) -> dict[str, str]:
    """The demo's roles: the key as ID, the label, protected columns, every other a feature."""
    roles = dict.fromkeys(columns, Authorization.Role.FEATURE)
    roles[KEY] = Authorization.Role.ID
    if table.label:
        roles[table.label] = Authorization.Role.LABEL
    for column in table.protected:
        roles[column] = Authorization.Role.PROTECTED
    return roles


def authorise_table(user: User, table: DemoTable, dataset: Dataset, project: Project) -> bool:
    """Authorise `dataset` to `project` with the demo's roles and standing policy; False when
    an active authorisation exists already (it is kept as it is)."""
    active = Authorization.objects.filter(dataset=dataset, project=project, revoked_at=None)
    if active.exists():
        return False
    actor = Actor.for_user(user)
    roles = column_roles(table, dataset.column_names)
    authorization = dataset_services.authorize_dataset(actor, dataset, project, roles)
    set_policy(actor, authorization, DEMO_POLICIES[table.party])
    return True
