"""Items through the REST API: create with GTINs, read back, page, filter, refuse bad input."""

from __future__ import annotations

import pytest

from tests.web.test_api_support import ApiClient, item_body
from wms.model import Role

UNIT = "5412345000013"
CASE = "15412345000010"
OTHER_UNIT = "5412345000020"


@pytest.fixture
def api(client, api_token) -> ApiClient:
    return ApiClient(client, api_token)


def test_create_an_item_with_unit_and_case_gtins_and_read_it_back(api):
    body = item_body(
        "SKU-1",
        description="Blue mug",
        gtins=[{"gtin": CASE, "pack_quantity": 12}, {"gtin": UNIT}],
        length_mm=100,
        width_mm=90,
        height_mm=110,
        weight_g=350,
        lot_tracked=True,
    )
    created = api.post("/items", body)
    assert created.status_code == 201, created.get_json()
    assert created.headers["Location"] == "/api/v1/items/SKU-1"
    item = created.get_json()
    assert item["gtins"] == [
        {"gtin": "0" + UNIT, "pack_quantity": 1},
        {"gtin": CASE, "pack_quantity": 12},
    ]
    assert item["lot_tracked"] is True and item["expiry_tracked"] is False
    assert item["weight_g"] == 350 and item["active"] is True

    read = api.get("/items/SKU-1")
    assert read.status_code == 200
    assert read.get_json() == item


def test_the_list_pages_in_sku_order_and_says_how_many_there_are(api):
    for n in (5, 1, 7, 3, 2, 6, 4):
        assert api.post("/items", item_body(f"P-{n}")).status_code == 201
    page = api.get("/items?page=2&page_size=3").get_json()
    assert [i["sku"] for i in page["items"]] == ["P-4", "P-5", "P-6"]
    assert (page["page"], page["page_size"], page["total"], page["pages"]) == (2, 3, 7, 3)
    last = api.get("/items?page=3&page_size=3").get_json()
    assert [i["sku"] for i in last["items"]] == ["P-7"]
    beyond = api.get("/items?page=9&page_size=3").get_json()
    assert beyond["items"] == [] and beyond["total"] == 7


def test_filters_by_sku_prefix_gtin_and_lot_tracking(api):
    api.post("/items", item_body("MUG-1", gtins=[{"gtin": UNIT}], lot_tracked=True))
    api.post("/items", item_body("MUG-2", gtins=[{"gtin": OTHER_UNIT}]))
    api.post("/items", item_body("PLATE-1"))
    api.post("/items", item_body("MUG_X"))

    def skus(query: str) -> list[str]:
        return [i["sku"] for i in api.get(f"/items?{query}").get_json()["items"]]

    assert skus("sku_prefix=MUG-") == ["MUG-1", "MUG-2"]
    assert skus("sku_prefix=MUG_") == ["MUG_X"]  # '_' is not a LIKE wildcard here
    assert skus(f"gtin={UNIT}") == ["MUG-1"]
    assert skus(f"gtin=0{UNIT}") == ["MUG-1"]
    assert skus("lot_tracked=true") == ["MUG-1"]
    assert skus("lot_tracked=false") == ["MUG-2", "MUG_X", "PLATE-1"]
    assert skus("sku_prefix=MUG-&lot_tracked=false") == ["MUG-2"]


def test_an_unknown_sku_is_a_404_that_names_it(api):
    response = api.get("/items/NOPE")
    assert response.status_code == 404
    body = response.get_json()
    assert body["code"] == 404 and body["error"] == "not_found"
    assert "NOPE" in body["message"]


def test_a_missing_field_names_the_field(api):
    response = api.post("/items", {"sku": "A"})
    assert response.status_code == 422
    body = response.get_json()
    assert body["errors"] == {"json": {"name": ["Missing data for required field."]}}
    assert "name: missing data for required field" in body["message"]


def test_wrong_types_and_negative_sizes_are_refused_field_by_field(api):
    response = api.post(
        "/items",
        item_body("A", weight_g="heavy", length_mm=-1, lot_tracked="maybe", colour="red"),
    )
    assert response.status_code == 422
    body = response.get_json()
    errors = body["errors"]["json"]
    assert errors["weight_g"] == ["Not a valid integer."]
    assert errors["length_mm"] == [
        "Must be greater than or equal to 0 and less than or equal to 2147483647."
    ]
    assert errors["lot_tracked"] == ["Not a valid boolean."]
    assert errors["colour"] == ["Unknown field."]
    for field in ("weight_g", "length_mm", "lot_tracked", "colour"):
        assert f"{field}:" in body["message"]
    assert api.get("/items/A").status_code == 404


def test_a_bad_gtin_check_digit_is_refused_and_nothing_is_written(api):
    body = item_body("A", gtins=[{"gtin": UNIT}, {"gtin": "5412345000014", "pack_quantity": 6}])
    response = api.post("/items", body)
    assert response.status_code == 422
    answer = response.get_json()
    assert answer["error"] == "invalid_input"
    assert "'5412345000014' is not a valid GTIN" in answer["message"]
    assert "check digit" in answer["message"]
    assert api.get("/items/A").status_code == 404
    assert api.get(f"/items?gtin={UNIT}").get_json()["total"] == 0


def test_a_zero_pack_quantity_is_refused(api):
    response = api.post("/items", item_body("A", gtins=[{"gtin": UNIT, "pack_quantity": 0}]))
    assert response.status_code == 422
    assert (
        "gtins[0].pack_quantity: must be greater than or equal to 1"
        in response.get_json()["message"]
    )


def test_a_sku_or_gtin_already_in_use_is_a_conflict(api):
    assert api.post("/items", item_body("A", gtins=[{"gtin": UNIT}])).status_code == 201
    again = api.post("/items", item_body("A"))
    assert again.status_code == 409
    assert again.get_json()["message"] == "an item with SKU A already exists"
    stolen = api.post("/items", item_body("B", gtins=[{"gtin": UNIT}]))
    assert stolen.status_code == 409
    assert "already belongs to item A" in stolen.get_json()["message"]
    assert api.get("/items/B").status_code == 404


def test_page_size_is_capped(api):
    response = api.get("/items?page_size=501")
    assert response.status_code == 422
    message = response.get_json()["message"]
    assert "query parameter 'page_size'" in message and "500" in message
    assert api.get("/items?page=0").status_code == 422
    assert api.get("/items?page_size=500").status_code == 200


def test_only_integrations_and_admins_create_items(client, login):
    login(Role.SUPERVISOR)
    from tests.web.conftest import _csrf_token

    token = _csrf_token(client, "/overview")
    response = client.post("/api/v1/items", json=item_body("A"), headers={"X-CSRFToken": token})
    assert response.status_code == 403
    assert "role does not allow" in response.get_json()["message"]
    assert client.get("/api/v1/items").status_code == 200  # but reads them


def test_a_sku_with_a_slash_is_read_back_at_its_own_address(api):
    created = api.post("/items", item_body("AB/12"))
    assert created.status_code == 201
    assert created.headers["Location"] == "/api/v1/items/AB/12"
    assert api.get("/items/AB/12").get_json()["sku"] == "AB/12"


def test_text_the_database_cannot_store_is_refused_not_a_server_error(api):
    nul = api.post("/items", item_body("A\x00B"))
    assert nul.status_code == 422
    assert "sku: must not contain NUL" in nul.get_json()["message"]
    surrogate = api.post(
        "/items",
        data='{"sku": "A\\ud800", "name": "x"}',
        headers={"Content-Type": "application/json"},
    )
    assert surrogate.status_code == 422
    assert "sku: must be valid Unicode text" in surrogate.get_json()["message"]
    assert api.get("/items/A%00B").status_code == 404
    assert api.get("/items?sku_prefix=A%00").status_code == 422
