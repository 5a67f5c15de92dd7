"""Locations and stock through the REST API: create, read back, filter, page and sum."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.web.test_api_support import ApiClient, item_body, order_body
from wms.catalog import item_by_sku, location_by_code
from wms.db.ledger import receive


def location_body(code: str, zone: str = "A", type_: str = "pick_face", **extra) -> dict:
    return {"code": code, "zone": zone, "type": type_, **extra}


@pytest.fixture
def api(client, api_token) -> ApiClient:
    return ApiClient(client, api_token)


# --- locations --------------------------------------------------------------------------


def test_create_a_location_and_read_it_by_code_or_barcode(api):
    body = location_body(
        "A-01-02",
        barcode="LOC0102",
        aisle="01",
        bay="02",
        level="1",
        slot="a",
        walk_sequence=12,
        x=3.5,
        y=7.25,
    )
    created = api.post("/locations", body)
    assert created.status_code == 201, created.get_json()
    assert created.headers["Location"] == "/api/v1/locations/A-01-02"
    location = created.get_json()
    assert location == {
        "code": "A-01-02",
        "barcode": "LOC0102",
        "zone": "A",
        "zone_kind": "handheld",
        "type": "pick_face",
        "aisle": "01",
        "bay": "02",
        "level": "1",
        "slot": "a",
        "walk_sequence": 12,
        "x": 3.5,
        "y": 7.25,
        "active": True,
    }
    assert api.get("/locations/A-01-02").get_json() == location
    assert api.get("/locations/LOC0102").get_json() == location


def test_the_location_list_walks_each_zone_in_sequence_and_filters(api):
    for code, zone, type_, aisle, seq in [
        ("A-3", "A", "pick_face", "01", 3),
        ("A-1", "A", "pick_face", "01", 1),
        ("A-2", "A", "staging", "02", 2),
        ("R-1", "R", "reserve", "09", 1),
    ]:
        body = location_body(code, zone, type_, aisle=aisle, walk_sequence=seq)
        assert api.post("/locations", body).status_code == 201

    def codes(query: str = "") -> list[str]:
        response = api.get(f"/locations?{query}")
        assert response.status_code == 200, response.get_json()
        return [row["code"] for row in response.get_json()["items"]]

    assert codes() == ["A-1", "A-2", "A-3", "R-1"]
    assert codes("zone=R") == ["R-1"]
    assert codes("type=pick_face") == ["A-1", "A-3"]
    assert codes("aisle=01&zone=A") == ["A-1", "A-3"]
    assert codes("zone=Z") == []
    page = api.get("/locations?page=2&page_size=3").get_json()
    assert [r["code"] for r in page["items"]] == ["R-1"]
    assert (page["total"], page["pages"]) == (4, 2)
    bad = api.get("/locations?type=shelf")
    assert bad.status_code == 422
    assert "query parameter 'type': must be one of: pick_face, reserve" in bad.get_json()["message"]


def test_an_unknown_zone_is_refused_with_the_zones_there_are(api):
    response = api.post("/locations", location_body("Z-1", zone="Z"))
    assert response.status_code == 422
    answer = response.get_json()
    assert answer["message"] == "zone 'Z' does not exist; use one of: A, R"
    assert answer["details"] == {"field": "zone", "value": "Z", "known_zones": ["A", "R"]}
    assert api.get("/locations/Z-1").status_code == 404


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (location_body("X", type_="shelf"), "type: must be one of: pick_face, reserve"),
        (location_body("X", walk_sequence=-1), "walk_sequence: must be greater than or equal to 0"),
        (location_body("X", aisle="123456789"), "aisle: longer than maximum length 8"),
        (location_body("X", x="left"), "x: not a valid number"),
        ({"zone": "A", "type": "reserve"}, "code: missing data for required field"),
    ],
)
def test_bad_location_values_name_the_field(api, body, expected):
    response = api.post("/locations", body)
    assert response.status_code == 422
    assert expected in response.get_json()["message"]


def test_a_code_or_barcode_in_use_is_a_conflict(api):
    assert api.post("/locations", location_body("A-1")).status_code == 201
    again = api.post("/locations", location_body("A-1"))
    assert again.status_code == 409
    assert "A-1" in again.get_json()["message"]
    barcode_clash = api.post("/locations", location_body("A-2", barcode="A-1"))
    assert barcode_clash.status_code == 409


def test_an_unknown_location_is_a_404(api):
    response = api.get("/locations/NOPE")
    assert response.status_code == 404
    assert response.get_json()["message"] == "location 'NOPE' does not exist"


# --- stock ------------------------------------------------------------------------------


@pytest.fixture
def stocked(api, database) -> ApiClient:
    """Two items in three locations, one lot-tracked in two lots, part of it reserved."""
    for code, zone in (("A-1", "A"), ("A-2", "A"), ("R-1", "R")):
        api.post("/locations", location_body(code, zone, "reserve" if zone == "R" else "pick_face"))
    api.post("/items", item_body("MILK", lot_tracked=True, expiry_tracked=True))
    api.post("/items", item_body("MUG"))
    api.post("/items", item_body("EMPTY"))
    with database.write() as session:
        milk, mug = item_by_sku(session, "MILK").id, item_by_sku(session, "MUG").id
        a1, a2, r1 = (location_by_code(session, c).id for c in ("A-1", "A-2", "R-1"))
        receive(
            session,
            item_id=milk,
            location_id=a1,
            quantity=10,
            lot="L1",
            expiry=dt.date(2030, 1, 31),
        )
        receive(
            session, item_id=milk, location_id=a1, quantity=4, lot="L2", expiry=dt.date(2030, 3, 1)
        )
        receive(
            session, item_id=milk, location_id=r1, quantity=48, lot="L2", expiry=dt.date(2030, 3, 1)
        )
        receive(session, item_id=mug, location_id=a2, quantity=7)
    # The order is allocated at intake: FEFO reserves 3 of lot L1 at A-1.
    assert api.post("/orders", order_body("O-1", ("MILK", 3))).status_code == 201
    return api


def test_stock_rows_show_on_hand_reserved_available_and_expiry(stocked):
    response = stocked.get("/stock")
    assert response.status_code == 200
    page = response.get_json()
    assert page["items"] == [
        {
            "location": "A-1",
            "zone": "A",
            "sku": "MILK",
            "item_name": "Item MILK",
            "lot": "L1",
            "expiry": "2030-01-31",
            "on_hand": 10,
            "reserved": 3,
            "available": 7,
        },
        {
            "location": "A-1",
            "zone": "A",
            "sku": "MILK",
            "item_name": "Item MILK",
            "lot": "L2",
            "expiry": "2030-03-01",
            "on_hand": 4,
            "reserved": 0,
            "available": 4,
        },
        {
            "location": "R-1",
            "zone": "R",
            "sku": "MILK",
            "item_name": "Item MILK",
            "lot": "L2",
            "expiry": "2030-03-01",
            "on_hand": 48,
            "reserved": 0,
            "available": 48,
        },
        {
            "location": "A-2",
            "zone": "A",
            "sku": "MUG",
            "item_name": "Item MUG",
            "lot": None,
            "expiry": None,
            "on_hand": 7,
            "reserved": 0,
            "available": 7,
        },
    ]
    assert page["totals"] == {"on_hand": 69, "reserved": 3, "available": 66}
    assert page["total"] == 4


def test_stock_filters_and_sums_over_all_pages(stocked):
    def rows(query: str) -> tuple[list[tuple[str, str, str | None]], dict]:
        response = stocked.get(f"/stock?{query}")
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        return [(r["location"], r["sku"], r["lot"]) for r in page["items"]], page["totals"]

    assert rows("sku=MUG") == (
        [("A-2", "MUG", None)],
        {"on_hand": 7, "reserved": 0, "available": 7},
    )
    assert rows("location=A-1")[0] == [("A-1", "MILK", "L1"), ("A-1", "MILK", "L2")]
    assert rows("zone=R")[0] == [("R-1", "MILK", "L2")]
    lot_rows, lot_totals = rows("lot=L2&sku=MILK")
    assert lot_rows == [("A-1", "MILK", "L2"), ("R-1", "MILK", "L2")]
    assert lot_totals == {"on_hand": 52, "reserved": 0, "available": 52}
    first, totals = rows("page_size=1&zone=A")
    assert first == [("A-1", "MILK", "L1")]
    assert totals == {"on_hand": 21, "reserved": 3, "available": 18}
    assert rows("sku=NOPE") == ([], {"on_hand": 0, "reserved": 0, "available": 0})


def test_empty_stock_rows_are_hidden_unless_asked_for(stocked, database):
    from wms.db.ledger import post_movement
    from wms.ledger import MovementRequest
    from wms.model import MovementKind

    with database.write() as session:
        mug = item_by_sku(session, "MUG").id
        a2 = location_by_code(session, "A-2").id
        post_movement(
            session,
            MovementRequest(MovementKind.ADJUSTMENT, mug, 7, from_location_id=a2, reason="broken"),
        )
    assert stocked.get("/stock?sku=MUG").get_json()["items"] == []
    shown = stocked.get("/stock?sku=MUG&include_empty=true").get_json()["items"]
    assert [(r["location"], r["on_hand"]) for r in shown] == [("A-2", 0)]
