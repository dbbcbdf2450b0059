"""`manage.py check --deploy` passes with the production settings README documents, and the
browser policy headers are on every response."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def documented_production_settings() -> dict[str, str]:
    """The variables of README's "Production settings" block, placeholders filled in."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Production settings", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    variables = {}
    for line in block.splitlines():
        name, _, value = line.partition("=")
        variables[name.strip()] = value.split("#")[0].strip()
    variables["PRIVPAD_SECRET_KEY"] = secrets.token_urlsafe(60)
    return {name: value.replace("<password>", "secret") for name, value in variables.items()}


def _check_deploy(tmp_path, variables: dict[str, str]) -> subprocess.CompletedProcess:
    # Neither our settings nor the e2e suite's async escape hatch (set for Playwright's sync
    # API in this test process) belong to a production deployment.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PRIVPAD_") and key != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(variables, PRIVPAD_DATA_DIR=str(tmp_path))
    command = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_the_documented_production_settings_pass_check_deploy(tmp_path):
    variables = documented_production_settings()
    assert variables["PRIVPAD_TLS"] == "true"
    result = _check_deploy(tmp_path, variables)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_fails_without_tls(tmp_path):
    variables = documented_production_settings()
    variables.pop("PRIVPAD_TLS")
    result = _check_deploy(tmp_path, variables)
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout  # no HSTS


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/v1/me/"])
def test_every_response_carries_the_browser_policies(anon_client, path):
    response = anon_client.get(path)
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_pages_using_inline_blocks_get_a_fresh_nonce(alice_client):
    first = alice_client.get("/api/docs/")
    second = alice_client.get("/api/docs/")
    nonces = [
        re.search(r"'nonce-([^']+)'", r["Content-Security-Policy"]).group(1)
        for r in (first, second)
    ]
    assert nonces[0] != nonces[1]
    assert f'<style nonce="{nonces[0]}">' in first.content.decode()


@pytest.mark.django_db  # the login page's footer reads this installation's node
def test_hsts_and_the_https_redirect_follow_tls(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert client.get("/accounts/login/")["Location"].startswith("https://")
    secure = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")


def test_no_template_has_inline_script_or_style_attributes():
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for pattern in (
            r"<script(?![^>]*\bsrc=)(?![^>]*nonce=)(?![^>]*application/json)",
            r"\sstyle=\"",
            r"<style(?![^>]*nonce=)",
            r"\son[a-z]+=\"",
        ):
            offenders += [
                f"{path.relative_to(ROOT)}: {m.group(0)}" for m in re.finditer(pattern, text)
            ]
    assert offenders == []
