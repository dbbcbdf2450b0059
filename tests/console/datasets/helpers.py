"""Builders for dataset tests: raw multipart bodies (to send file names Django's test client
would strip), uploads through the API and services, and the leftovers check."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from console.datasets.models import Authorization, Dataset

LIST = "/api/v1/datasets/"
AUTHORIZATIONS = "/api/v1/authorizations/"
BOUNDARY = "privpad-test-boundary-7f3a"
CSV = b"id,age,income,member\n1,34,5200.5,true\n2,,4100,false\n3,51,,TRUE\n"


def multipart(filename: str | None, content: bytes, **fields: str) -> tuple[bytes, str]:
    """A multipart/form-data body with the file name exactly as given."""
    parts = []
    for key, value in fields.items():
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    if filename is not None:
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
    return body, f"multipart/form-data; boundary={BOUNDARY}"


def upload(client, content: bytes = CSV, name: str = "customers", filename="customers.csv"):
    body, content_type = multipart(filename, content, name=name, description="test data")
    return client.post(LIST, data=body, content_type=content_type)


def uploaded(content: bytes = CSV, filename: str = "customers.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(filename, content, content_type="text/csv")


def leftovers() -> list[Path]:
    """Every file under the node storage and the upload temporary directory."""
    roots = [Path(settings.NODE_STORAGE_DIR), Path(settings.UPLOAD_TEMP_DIR)]
    return sorted(p for root in roots if root.exists() for p in root.rglob("*") if p.is_file())


def assert_nothing_left() -> None:
    assert leftovers() == []
    assert Dataset.objects.count() == 0


def grant(dataset: Dataset, project, roles: dict | None = None) -> Authorization:
    roles = roles or dict.fromkeys(dataset.column_names, "feature")
    return Authorization.objects.create(dataset=dataset, project=project, column_roles=roles)


def dataset_url(dataset_id: int, suffix: str = "") -> str:
    return f"{LIST}{dataset_id}/{suffix}"


def authorize_via_api(client, dataset_id: int, project, roles: dict | None = None):
    body = {"dataset": dataset_id, "project": project.pk, "column_roles": roles or {}}
    return client.post(AUTHORIZATIONS, body, format="json")
