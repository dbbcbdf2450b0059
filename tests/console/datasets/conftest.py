"""Dataset tests keep node storage and upload temporaries in a directory of their own, so each
test can assert that a refused upload left no file anywhere."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def storage(settings, tmp_path) -> Path:
    """Per-test node storage (`nodes/`) and upload temporaries (`uploads/`)."""
    settings.NODE_STORAGE_DIR = tmp_path / "nodes"
    settings.UPLOAD_TEMP_DIR = tmp_path / "uploads"
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    settings.UPLOAD_TEMP_DIR.mkdir()
    return tmp_path


@pytest.fixture(autouse=True)
def fast_passwords(settings) -> None:
    """The shared fixtures create several users; a fast hasher keeps these tests quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
