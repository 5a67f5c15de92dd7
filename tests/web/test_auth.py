"""Sign-in by password and badge, roles on the server, CSRF on forms."""

from __future__ import annotations

from tests.web.conftest import PASSWORD, _csrf_token
from wms.model import Role


def test_pages_need_a_signed_in_user(client):
    response = client.get("/overview")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_password_login_lands_on_the_role_home(client, login):
    login(Role.SUPERVISOR)
    page = client.get("/overview")
    assert page.status_code == 200
    assert "Test supervisor" in page.get_data(as_text=True)


def test_wrong_password_says_so_and_does_not_sign_in(client):
    token = _csrf_token(client, "/login")
    response = client.post(
        "/login", data={"username": "supervisor", "password": "nope-nope", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "Wrong username or password" in response.get_data(as_text=True)
    assert client.get("/overview").status_code == 302


def test_login_without_csrf_token_is_refused(client):
    response = client.post("/login", data={"username": "supervisor", "password": PASSWORD})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    assert client.get("/overview").status_code == 302


def test_badge_login_sends_a_picker_to_the_handheld(client):
    token = _csrf_token(client, "/badge")
    response = client.post("/badge", data={"badge": "BADGE-PICKER", "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/handheld"
    assert "Test picker" in client.get("/handheld").get_data(as_text=True)


def test_unknown_badge_is_refused_with_a_reason(client):
    token = _csrf_token(client, "/badge")
    response = client.post("/badge", data={"badge": "BADGE-NOBODY", "csrf_token": token})
    assert response.status_code == 401
    assert "badge is not known" in response.get_data(as_text=True)


def test_roles_are_enforced_on_the_server(client, login):
    login(Role.PICKER)
    response = client.get("/overview")
    assert response.status_code == 403
    assert "role does not allow" in response.get_data(as_text=True)


def test_the_user_language_is_used(client, login):
    login(Role.PACKER)  # the packer's profile says French
    page = client.get("/overview").get_data(as_text=True)
    assert 'lang="fr"' in page


def test_logout_needs_post_and_ends_the_session(client, login):
    login(Role.SUPERVISOR)
    assert client.get("/logout").status_code == 405
    token = _csrf_token(client, "/overview")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/overview").status_code == 302
