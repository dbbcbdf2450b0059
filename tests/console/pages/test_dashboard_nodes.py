"""The dashboard and the nodes page."""

from __future__ import annotations

from console.nodes.models import Node


def test_it_redirects_anonymous_dashboard_to_login(anon_client):
    response = anon_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_it_shows_my_node_projects_and_datasets(alice_client, project, dataset):
    html = alice_client.get("/").content.decode()
    assert "Alice Bank" in html
    assert project.name in html
    assert f'href="/datasets/{dataset.pk}/"' in html


def test_it_marks_the_current_section_in_the_navigation(alice_client):
    html = alice_client.get("/projects/").content.decode()
    assert 'href="/projects/" class="nav-link is-active" aria-current="page"' in html


def test_it_hides_the_audit_log_from_plain_members(alice_member_user, client):
    client.force_login(alice_member_user)
    assert 'href="/audit/"' not in client.get("/").content.decode()


def test_it_does_not_list_other_nodes_datasets_on_my_dashboard(bob_client, dataset, authorization):
    html = bob_client.get("/").content.decode()
    assert dataset.name not in html.split("My datasets", 1)[1]


def test_it_tells_an_empty_node_what_to_do_next(carol_client):
    html = carol_client.get("/").content.decode()
    assert "Upload a CSV" in html
    assert "Create a project" in html


def test_it_explains_the_dashboard_to_a_platform_admin(client, platform_admin):
    client.force_login(platform_admin)
    html = client.get("/").content.decode()
    assert "You are not acting for a node" in html
    assert "My datasets" not in html


def test_it_lists_every_node(alice_client, bob, carol):
    html = alice_client.get("/nodes/").content.decode()
    for name in ("alice", "bob", "carol"):
        assert f"<code>{name}</code>" in html


def test_it_hides_the_register_form_from_node_users(alice_client):
    assert "Register a node" not in alice_client.get("/nodes/").content.decode()


def test_it_forbids_node_users_to_register(alice_client):
    response = alice_client.post("/nodes/", {"name": "mallory", "display_name": "M"})
    assert response.status_code == 403
    assert not Node.objects.filter(name="mallory").exists()


def test_it_registers_a_node_for_a_platform_admin(client, platform_admin):
    client.force_login(platform_admin)
    data = {"name": "dave", "display_name": "Dave Hospital", "kind": "embedded", "address": ""}
    response = client.post("/nodes/", data, follow=True)
    assert Node.objects.filter(name="dave").exists()
    assert "Node “Dave Hospital” registered." in response.content.decode()


def test_it_shows_register_errors_inline(client, platform_admin, alice):
    client.force_login(platform_admin)
    data = {"name": "bad name!", "display_name": "", "kind": "remote", "address": ""}
    response = client.post("/nodes/", data)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="field-error"') >= 2
    assert not Node.objects.filter(display_name="").exists()


def test_it_rejects_a_remote_node_without_address(client, platform_admin):
    client.force_login(platform_admin)
    data = {"name": "eve", "display_name": "Eve", "kind": "remote", "address": ""}
    html = client.post("/nodes/", data).content.decode()
    assert "A remote node needs the address of its installation." in html
    assert not Node.objects.filter(name="eve").exists()


def test_it_redirects_anonymous_nodes_page_to_login(anon_client):
    assert anon_client.get("/nodes/")["Location"].startswith("/accounts/login/")
