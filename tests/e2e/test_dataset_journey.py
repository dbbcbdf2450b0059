"""A new user's main path: log in, upload a CSV, authorise it, and what the partner sees."""

from __future__ import annotations

import re

from tests.e2e.conftest import log_in

NON_ASCII_COLUMN = "月收入"


def _write_csv(tmp_path, rows: int = 60_000):
    """A CSV of a few MB, so the upload reports progress several times before it completes."""
    path = tmp_path / "客户.csv"
    lines = [f"customer_id,{NON_ASCII_COLUMN},defaulted"]
    lines += [f"C{i:07d},{1000 + (i * 37) % 9000}.5,{i % 2}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _watch_progress(page) -> list[str]:
    """Collect every percentage the progress bar shows (kept across the redirect)."""
    seen: list[str] = []
    page.expose_function("recordUploadProgress", lambda text: seen.append(text))
    page.evaluate(
        """() => {
        const label = document.getElementById("upload-percent");
        new MutationObserver(() => window.recordUploadProgress(label.textContent))
            .observe(label, {childList: true, characterData: true, subtree: true});
    }"""
    )
    return seen


def _throttle_uploads(page, bytes_per_second: int) -> None:
    """Slow the browser's uploads down (DevTools network emulation) so progress is visible."""
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    conditions = {"offline": False, "latency": 20, "downloadThroughput": -1}
    session.send(
        "Network.emulateNetworkConditions", {**conditions, "uploadThroughput": bytes_per_second}
    )


def _upload(page, base_url: str, csv_path) -> str:
    page.goto(f"{base_url}/datasets/upload/")
    _throttle_uploads(page, 800_000)
    page.get_by_label("CSV file").set_input_files(str(csv_path))
    page.get_by_label("Name").fill("customers")
    seen = _watch_progress(page)
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(re.compile(r"/datasets/\d+/$"))
    assert "100%" in seen, f"progress never reached 100%: {seen}"
    numbers = [int(text.rstrip("%")) for text in seen]
    assert numbers == sorted(numbers), f"progress went backwards: {seen}"
    assert any(0 < n < 100 for n in numbers), f"no intermediate progress shown: {seen}"
    return page.url


def _authorise(page, project_name: str) -> None:
    page.get_by_label("Project").select_option(label=project_name)
    page.get_by_label("customer_id").select_option("id")
    page.get_by_label(NON_ASCII_COLUMN).select_option("feature")
    page.get_by_label("defaulted").select_option("label")
    page.get_by_role("button", name="Authorise").click()
    page.get_by_text(f"Authorised to “{project_name}”.").wait_for()


def test_it_uploads_authorises_and_shares_schema_but_not_rows(
    live_server, people, new_page, tmp_path
):
    alice = new_page()
    log_in(alice, live_server.url, "alice_admin")
    detail_url = _upload(alice, live_server.url, _write_csv(tmp_path))
    schema = alice.locator("#schema")
    assert schema.get_by_text(NON_ASCII_COLUMN, exact=True).is_visible()
    assert "60,000" in alice.locator(".facts").inner_text()
    _authorise(alice, "Joint credit model")

    bob = new_page()
    log_in(bob, live_server.url, "bob_admin")
    bob.goto(f"{live_server.url}/datasets/")
    bob.locator("#shared").get_by_role("link", name="customers").click()
    assert bob.url == detail_url
    assert bob.locator("#schema").get_by_text(NON_ASCII_COLUMN, exact=True).is_visible()
    roles = bob.locator(".role-list").inner_text()
    assert "ID / key" in roles
    assert "Label" in roles
    assert bob.get_by_role("link", name="Preview rows").count() == 0
    response = bob.goto(f"{detail_url}preview/")
    assert response.status == 404
    assert "C0000001" not in bob.content()


def test_it_shows_the_servers_reason_when_an_upload_is_refused(
    live_server, people, new_page, tmp_path
):
    bad = tmp_path / "dupes.csv"
    bad.write_text("id,id\n1,2\n", encoding="utf-8")
    page = new_page()
    log_in(page, live_server.url, "alice_admin")
    page.goto(f"{live_server.url}/datasets/upload/")
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Upload").click()
    error = page.locator("#upload-error")
    error.wait_for(state="visible")
    assert error.inner_text().count("Duplicate column names") == 1, error.inner_text()
    assert page.locator("#upload-progress.is-failed").is_visible()
    assert page.url.endswith("/datasets/upload/")


def test_it_shows_hostile_column_names_as_text(live_server, people, new_page, tmp_path):
    hostile = ['<img src=x onerror="alert(1)">', "<script>alert(2)</script>"]
    path = tmp_path / "hostile.csv"
    header = ",".join('"' + name.replace('"', '""') + '"' for name in hostile)
    path.write_text(f"id,{header}\n1,2,3\n", encoding="utf-8")
    page = new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, live_server.url, "alice_admin")
    page.goto(f"{live_server.url}/datasets/upload/")
    page.get_by_label("CSV file").set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(re.compile(r"/datasets/\d+/$"))
    cells = page.locator("#schema td.column-name").all_inner_texts()
    assert cells == ["id", *hostile]
    assert page.locator("#schema img, #schema script").count() == 0
    page.goto(f"{page.url}preview/")
    assert page.locator("table img").count() == 0
    assert dialogs == [], f"a column name ran as script: {dialogs}"
