"""Who may use the API: bearer tokens, browser sessions with CSRF, and roles."""

from __future__ import annotations

import pytest

from tests.web.conftest import _csrf_token
from tests.web.test_api_support import PREFIX, ApiClient, item_body, order_body
from wms.model import Role

READ_PATHS = ["/items", "/items/X", "/locations", "/locations/X", "/stock", "/orders", "/orders/X"]
WRITE_PATHS = ["/items", "/locations", "/orders"]


@pytest.mark.parametrize("path", READ_PATHS)
def test_reading_needs_a_signed_in_user_or_a_token(client, path):
    response = client.get(PREFIX + path)
    assert response.status_code == 401
    answer = response.get_json()
    assert answer["code"] == 401
    assert "Authorization: Bearer <token>" in answer["message"]


@pytest.mark.parametrize("path", WRITE_PATHS)
def test_writing_without_a_user_is_a_401_not_a_csrf_error(client, path):
    response = client.post(PREFIX + path, json={})
    assert response.status_code == 401


def test_a_wrong_token_is_a_401(client, api_token):
    response = client.get(f"{PREFIX}/orders", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    response = client.get(f"{PREFIX}/orders", headers={"Authorization": f"Basic {api_token}"})
    assert response.status_code == 401


def test_a_token_needs_no_csrf_token(client, api_token):
    api = ApiClient(client, api_token)
    assert api.post("/items", item_body("A")).status_code == 201
    assert api.post("/orders", order_body("O-1", ("A", 1))).status_code == 201


@pytest.mark.parametrize("path", READ_PATHS)
def test_a_picker_may_not_use_the_api(client, login, path):
    login(Role.PICKER)
    response = client.get(PREFIX + path)
    assert response.status_code == 403
    assert response.get_json()["message"].startswith("Your role does not allow this")


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.PACKER, Role.ADMIN])
def test_supervisors_packers_and_admins_read(client, login, role):
    login(role)
    for path in ("/items", "/locations", "/stock", "/orders"):
        response = client.get(PREFIX + path)
        assert response.status_code == 200, (path, response.get_json())


def test_a_packer_may_read_but_not_create_orders(client, login, api_token):
    ApiClient(client, api_token).post("/items", item_body("A"))
    login(Role.PACKER)
    token = _csrf_token(client, "/overview")
    response = client.post(
        f"{PREFIX}/orders", json=order_body("O-1", ("A", 1)), headers={"X-CSRFToken": token}
    )
    assert response.status_code == 403


def test_a_supervisor_creates_orders_but_not_items_or_locations(client, login, api_token):
    ApiClient(client, api_token).post("/items", item_body("A"))
    login(Role.SUPERVISOR)
    headers = {"X-CSRFToken": _csrf_token(client, "/overview")}
    order = client.post(f"{PREFIX}/orders", json=order_body("O-1", ("A", 1)), headers=headers)
    assert order.status_code == 201
    item = client.post(f"{PREFIX}/items", json=item_body("B"), headers=headers)
    assert item.status_code == 403
    location = client.post(
        f"{PREFIX}/locations", json={"code": "L", "zone": "A", "type": "dock"}, headers=headers
    )
    assert location.status_code == 403


def test_a_session_post_needs_its_csrf_token(client, login):
    login(Role.ADMIN)
    refused = client.post(f"{PREFIX}/items", json=item_body("A"))
    assert refused.status_code == 400
    assert "expired" in refused.get_json()["message"]
    forged = client.post(f"{PREFIX}/items", json=item_body("A"), headers={"X-CSRFToken": "x"})
    assert forged.status_code == 400
    assert client.get(f"{PREFIX}/items/A").status_code == 404
    token = _csrf_token(client, "/overview")
    accepted = client.post(f"{PREFIX}/items", json=item_body("A"), headers={"X-CSRFToken": token})
    assert accepted.status_code == 201


def test_the_api_description_is_public(client):
    assert client.get(f"{PREFIX}/openapi.json").status_code == 200
    assert client.get(f"{PREFIX}/docs").status_code == 200


def test_an_unknown_api_address_and_method_answer_json(client, api_token):
    api = ApiClient(client, api_token)
    missing = client.get(f"{PREFIX}/nothing-here")
    assert missing.status_code == 404 and missing.get_json()["code"] == 404
    wrong = client.delete(f"{PREFIX}/items", headers={"Authorization": f"Bearer {api.token}"})
    assert wrong.status_code == 405 and wrong.get_json()["code"] == 405


def test_a_role_that_may_not_write_hears_so_before_any_body_check(client, login):
    login(Role.PACKER)
    token = _csrf_token(client, "/overview")
    response = client.post(
        f"{PREFIX}/orders",
        data="not json",
        headers={"X-CSRFToken": token},
        content_type="text/plain",
    )
    assert response.status_code == 403


def test_a_token_wins_over_a_session_cookie_in_the_same_browser(client, login, api_token):
    login(Role.PICKER)  # signed in to the app as a picker, who may not create items
    assert client.post(f"{PREFIX}/items", json=item_body("B")).status_code == 400  # no CSRF
    response = client.post(
        f"{PREFIX}/items", json=item_body("B"), headers={"Authorization": f"Bearer {api_token}"}
    )
    assert response.status_code == 201, response.get_json()
