"""Orders through the REST API: intake whole or not at all, status and history read back."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event

from tests.web.conftest import _csrf_token
from tests.web.test_api_support import ApiClient, item_body, order_body
from wms.db.schema import Customer
from wms.model import OrderKind, OrderStatus, Role
from wms.orders import order_by_number, set_status


@pytest.fixture
def api(client, api_token) -> ApiClient:
    api = ApiClient(client, api_token)
    for sku in ("MUG", "PLATE", "BOWL"):
        assert api.post("/items", item_body(sku)).status_code == 201
    return api


def test_create_an_order_and_read_its_status_and_history(api):
    body = order_body(
        "WEB-1",
        ("MUG", 2),
        ("PLATE", 1),
        kind="b2b",
        ship_to={"name": "Café Anvers", "city": "Antwerpen", "postcode": "2000", "country": "be"},
        priority=5,
        cut_off="2030-05-01T18:00:00+02:00",
        carrier="DHL",
        service="express",
        delivery_window={"start": "2030-05-02T08:00:00Z", "end": "2030-05-02T10:00:00"},
        dock="DOCK-2",
        label_requirements={"sscc": True, "template": "retail"},
    )
    created = api.post("/orders", body)
    assert created.status_code == 201, created.get_json()
    assert created.headers["Location"] == "/api/v1/orders/WEB-1"
    order = created.get_json()
    assert order["number"] == "WEB-1"
    # Confirmed at once: nothing is in stock, so both lines are backordered, and say why.
    assert order["kind"] == "b2b" and order["status"] == "backordered"
    assert order["held"] is False
    assert order["customer"] is None
    assert order["ship_to"] == {
        "name": "Café Anvers",
        "address": "",
        "postcode": "2000",
        "city": "Antwerpen",
        "country": "BE",
    }
    assert order["priority"] == 5
    assert order["cut_off"] == "2030-05-01T16:00:00+00:00"
    assert order["carrier"] == "DHL" and order["service"] == "express"
    assert order["delivery_window"] == {
        "start": "2030-05-02T08:00:00+00:00",
        "end": "2030-05-02T10:00:00+00:00",
    }
    assert order["dock"] == "DOCK-2"
    assert order["label_requirements"] == {"sscc": True, "template": "retail"}
    assert order["lines"] == [
        {"line_no": 1, "sku": "MUG", "quantity": 2, "allocated_quantity": 0, "picked_quantity": 0},
        {
            "line_no": 2,
            "sku": "PLATE",
            "quantity": 1,
            "allocated_quantity": 0,
            "picked_quantity": 0,
        },
    ]
    created_at = dt.datetime.fromisoformat(order["created_at"])
    assert created_at.utcoffset() == dt.timedelta(0)
    assert abs(dt.datetime.now(dt.UTC) - created_at) < dt.timedelta(minutes=1)
    assert [step["status"] for step in order["history"]] == ["received", "backordered"]
    no_stock = "no stock of this item in the warehouse"
    assert order.pop("allocation") == {
        "status": "backordered",
        "lines": [
            {
                "line_no": 1,
                "sku": "MUG",
                "quantity": 2,
                "allocated": 0,
                "status": "backordered",
                "reason": no_stock,
            },
            {
                "line_no": 2,
                "sku": "PLATE",
                "quantity": 1,
                "allocated": 0,
                "status": "backordered",
                "reason": no_stock,
            },
        ],
    }

    read = api.get("/orders/WEB-1")
    assert read.status_code == 200
    assert read.get_json() == order


def test_history_lists_every_step_oldest_first(api, database):
    api.post("/orders", order_body("WEB-1", ("MUG", 1)))
    with database.write() as session:
        order = order_by_number(session, "WEB-1")
        set_status(session, order, OrderStatus.ALLOCATED, "all lines allocated")
    with database.write() as session:
        set_status(session, order_by_number(session, "WEB-1"), OrderStatus.RELEASED, "wave 7")
    order = api.get("/orders/WEB-1").get_json()
    assert order["status"] == "released"
    assert [(s["status"], s["detail"]) for s in order["history"]] == [
        ("received", ""),
        ("backordered", "MUG 0/1"),
        ("allocated", "all lines allocated"),
        ("released", "wave 7"),
    ]
    assert all(
        dt.datetime.fromisoformat(s["at"]).utcoffset() == dt.timedelta(0) for s in order["history"]
    )


def test_an_unknown_order_is_a_404(api):
    response = api.get("/orders/NOPE")
    assert response.status_code == 404
    assert response.get_json()["message"] == "order 'NOPE' does not exist"


# --- refusals ---------------------------------------------------------------------------


def _refused(api: ApiClient, body, status: int = 422) -> dict:
    response = api.post("/orders", body)
    assert response.status_code == status, response.get_json()
    answer = response.get_json()
    assert answer["code"] == status
    listed = api.get("/orders").get_json()
    assert listed["total"] == 0, "a refused order must leave nothing behind"
    return answer


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [
        (0, "lines[1].quantity: must be greater than or equal to 1"),
        (-3, "lines[1].quantity: must be greater than or equal to 1"),
        ("2", "lines[1].quantity: not a valid integer"),
        (1.5, "lines[1].quantity: not a valid integer"),
        (None, "lines[1].quantity: field may not be null"),
    ],
)
def test_a_bad_quantity_names_the_line_and_what_is_expected(api, quantity, expected):
    answer = _refused(api, order_body("WEB-1", ("MUG", 1), ("PLATE", quantity)))
    assert expected in answer["message"]
    assert "quantity" in answer["errors"]["json"]["lines"]["1"]


def test_missing_fields_are_named(api):
    answer = _refused(api, {"kind": "b2c"})
    assert answer["errors"]["json"] == {
        "number": ["Missing data for required field."],
        "lines": ["Missing data for required field."],
    }
    assert "number: missing data for required field" in answer["message"]
    assert "lines: missing data for required field" in answer["message"]


def test_an_order_without_lines_is_refused(api):
    answer = _refused(api, order_body("WEB-1"))
    assert answer["message"] == "order WEB-1 has no lines"
    assert answer["details"]["field"] == "lines"


def test_an_unknown_sku_on_a_line_is_refused_whole(api):
    answer = _refused(api, order_body("WEB-1", ("MUG", 1), ("NOPE", 2)))
    assert answer["error"] == "invalid_input"
    assert answer["message"] == "order WEB-1: unknown SKU NOPE; create the item first"
    assert answer["details"]["unknown_skus"] == ["NOPE"]
    assert api.get("/orders/WEB-1").status_code == 404


def test_a_duplicate_order_number_is_a_conflict(api):
    assert api.post("/orders", order_body("WEB-1", ("MUG", 1))).status_code == 201
    response = api.post("/orders", order_body("WEB-1", ("PLATE", 9)))
    assert response.status_code == 409
    answer = response.get_json()
    assert answer["error"] == "conflict"
    assert answer["message"] == "order WEB-1 already exists"
    assert api.get("/orders/WEB-1").get_json()["lines"][0]["sku"] == "MUG"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"kind": "b2x"}, "kind: must be one of: b2c, b2b"),
        ({"priority": 101}, "priority: must be greater than or equal to -100"),
        ({"cut_off": "tomorrow"}, "cut_off: not a valid datetime"),
        ({"ship_to": {"country": "BEL"}}, "ship_to.country: use the two-letter ISO 3166"),
        ({"number": "x" * 41}, "number: length must be between 1 and 40"),
        ({"number": "A\x00B"}, "number: must not contain NUL"),
        ({"label_requirements": ["sscc"]}, "label_requirements: not a valid mapping type"),
    ],
)
def test_malformed_values_name_the_field(api, extra, expected):
    answer = _refused(api, {**order_body("WEB-1", ("MUG", 1)), **extra})
    assert expected in answer["message"]


def test_business_rules_come_from_the_use_case(api):
    answer = _refused(
        api,
        order_body(
            "WEB-1",
            ("MUG", 1),
            delivery_window={"start": "2030-05-02T10:00:00Z", "end": "2030-05-02T08:00:00Z"},
        ),
    )
    assert answer["message"] == "order WEB-1: delivery window starts after it ends"
    answer = _refused(api, order_body("WEB-1", ("MUG", 1), customer="ACME"))
    assert answer["message"] == "order WEB-1: customer 'ACME' does not exist"


def test_a_body_that_is_not_json_is_a_400_that_says_where(api):
    response = api.post(
        "/orders", data='{"number": "WEB-1",, }', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    answer = response.get_json()
    assert answer["error"] == "malformed_body"
    assert answer["message"].startswith("The body is not valid JSON: Expecting property name")
    assert "line 1, column 20" in answer["message"]
    empty = api.post("/orders", data="", headers={"Content-Type": "application/json"})
    assert empty.status_code == 400
    assert empty.get_json()["message"] == "The body is empty; send a JSON object."
    binary = api.post("/orders", data=b"\xff\xfe{", headers={"Content-Type": "application/json"})
    assert binary.status_code == 400


def test_a_body_without_json_content_type_is_a_415(api):
    response = api.post("/orders", data="number=WEB-1", content_type="text/plain")
    assert response.status_code == 415
    assert "Content-Type: application/json" in response.get_json()["message"]


def test_a_json_array_is_not_an_order(api):
    answer = _refused(api, [order_body("WEB-1", ("MUG", 1))])
    assert "body: invalid input type" in answer["message"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"number": 1, "kind": 2, "lines": 3},
        {"number": "N", "kind": "b2c", "lines": [1, "x", None]},
        {"number": "N", "kind": "b2c", "lines": [{"sku": ["MUG"], "quantity": 1}]},
        {"number": "N", "kind": "b2c", "lines": [{"sku": "MUG", "quantity": 10**12}]},
        {"number": "N", "kind": "b2c", "lines": [{"sku": "M" * 500, "quantity": 1}]},
        {"number": "N", "kind": "b2c", "lines": [], "priority": 10**30},
        {"number": "N", "kind": "b2c", "lines": [{"sku": "MUG", "quantity": 1}], "ship_to": 5},
        {"number": " ", "kind": "b2c", "lines": [{"sku": "MUG", "quantity": 1}]},
        {"number": "N", "kind": "b2c", "lines": [{"sku": "MUG", "quantity": True}]},
        {"number": "N", "kind": "b2c", "lines": [{"sku": "MUG", "quantity": 1}], "dock": ""},
        {
            "number": "N",
            "kind": "b2c",
            "lines": [{"sku": "MUG", "quantity": 1}],
            "cut_off": "9999-12-31T23:59:59-23:00",
        },
        {
            "number": "N",
            "kind": "b2c",
            "lines": [{"sku": "MUG", "quantity": 1}],
            "label_requirements": {"k": "\ud800"},
        },
        "just a string",
        None,
    ],
)
def test_odd_bodies_never_cause_a_server_error(api, body):
    response = api.post("/orders", body)
    assert 400 <= response.status_code < 500, response.get_json()
    assert response.get_json()["message"]


# --- lists ------------------------------------------------------------------------------


@pytest.fixture
def some_orders(api, database):
    with database.write() as session:
        session.add(Customer(code="ACME", name="Acme retail", kind=OrderKind.B2B))
    specs = [
        ("O-1", "b2c", "DHL", "2030-05-01T12:00:00Z", None, 0),
        ("O-2", "b2c", "UPS", "2030-05-01T09:00:00Z", None, 0),
        ("O-3", "b2b", "DHL", "2030-05-02T09:00:00Z", "ACME", 0),
        ("O-4", "b2c", "DHL", None, None, 0),
        ("O-5", "b2c", "DHL", "2030-05-01T12:00:00Z", None, 9),
    ]
    for number, kind, carrier, cut_off, customer, priority in specs:
        body = order_body(
            number,
            ("MUG", 1),
            ("BOWL", 2),
            kind=kind,
            carrier=carrier,
            cut_off=cut_off,
            customer=customer,
            priority=priority,
        )
        assert api.post("/orders", body).status_code == 201
    with database.write() as session:
        # Intake allocated them all at once: with no stock, each is backordered.
        set_status(session, order_by_number(session, "O-2"), OrderStatus.ALLOCATED)
        set_status(session, order_by_number(session, "O-3"), OrderStatus.SHIPPED)
    return api


def _numbers(api: ApiClient, query: str = "") -> list[str]:
    response = api.get(f"/orders?{query}")
    assert response.status_code == 200, response.get_json()
    return [o["number"] for o in response.get_json()["items"]]


def test_the_list_is_ordered_by_cut_off_then_priority_and_paged(some_orders):
    assert _numbers(some_orders) == ["O-2", "O-5", "O-1", "O-3", "O-4"]
    page = some_orders.get("/orders?page=2&page_size=2").get_json()
    assert [o["number"] for o in page["items"]] == ["O-1", "O-3"]
    assert (page["total"], page["pages"]) == (5, 3)
    first = page["items"][0]
    assert first["status"] == "backordered" and first["cut_off"] == "2030-05-01T12:00:00+00:00"
    assert [line["sku"] for line in first["lines"]] == ["MUG", "BOWL"]
    assert "history" not in first


def test_the_list_filters(some_orders):
    assert _numbers(some_orders, "status=allocated") == ["O-2"]
    assert _numbers(some_orders, "status=allocated,shipped") == ["O-2", "O-3"]
    assert _numbers(some_orders, "kind=b2b") == ["O-3"]
    assert _numbers(some_orders, "customer=ACME") == ["O-3"]
    assert _numbers(some_orders, "carrier=UPS") == ["O-2"]
    assert _numbers(some_orders, "cut_off_before=2030-05-01T12:00:00Z") == ["O-2"]
    assert _numbers(some_orders, "cut_off_after=2030-05-01T12:00:00Z") == ["O-5", "O-1", "O-3"]
    assert _numbers(
        some_orders, "cut_off_after=2030-05-01T10:00:00%2B02:00&cut_off_before=2030-05-02"
    ) == ["O-2", "O-5", "O-1"]
    assert _numbers(some_orders, "carrier=DHL&status=backordered") == ["O-5", "O-1", "O-4"]
    assert _numbers(some_orders, "status=received") == []
    assert some_orders.get("/orders?customer=ACME").get_json()["items"][0]["customer"] == "ACME"


def test_unknown_filter_values_are_refused(some_orders):
    response = some_orders.get("/orders?status=lost")
    assert response.status_code == 422
    assert "query parameter 'status[0]'" in response.get_json()["message"]
    assert "must be one of: received, allocated" in response.get_json()["message"]
    response = some_orders.get("/orders?cut_off_before=soon")
    assert response.status_code == 422
    assert (
        "query parameter 'cut_off_before': not a valid datetime" in response.get_json()["message"]
    )


def test_listing_orders_takes_the_same_number_of_queries_for_2_or_20(api, database):
    def statements_for_listing() -> int:
        seen: list[str] = []

        def record(_conn, _cursor, statement, *_args) -> None:
            seen.append(statement)

        event.listen(database.engine, "before_cursor_execute", record)
        try:
            assert api.get("/orders?page_size=100").status_code == 200
        finally:
            event.remove(database.engine, "before_cursor_execute", record)
        return len(seen)

    for n in range(2):
        api.post("/orders", order_body(f"A-{n}", ("MUG", 1), ("PLATE", 1)))
    few = statements_for_listing()
    for n in range(2, 20):
        api.post("/orders", order_body(f"A-{n}", ("MUG", 1), ("PLATE", 1), ("BOWL", 2)))
    assert statements_for_listing() == few


# --- who may ----------------------------------------------------------------------------


def test_a_supervisor_session_creates_orders_with_a_csrf_token(api, login):
    session = login(Role.SUPERVISOR)
    token = _csrf_token(session, "/overview")
    body = order_body("S-1", ("MUG", 1))
    refused = session.post("/api/v1/orders", json=body)
    assert refused.status_code == 400
    assert "expired" in refused.get_json()["message"]
    created = session.post("/api/v1/orders", json=body, headers={"X-CSRFToken": token})
    assert created.status_code == 201, created.get_json()
    assert session.get("/api/v1/orders/S-1").get_json()["number"] == "S-1"


def test_the_same_order_sent_at_once_is_recorded_once(app, api):
    from concurrent.futures import ThreadPoolExecutor

    def send(_: int) -> int:
        client = ApiClient(app.test_client(), api.token)
        response = client.post("/orders", order_body("RACE-1", ("MUG", 1)))
        if response.status_code == 409:
            assert response.get_json()["message"].startswith("order RACE-1 already exists")
        return response.status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(send, range(6)))
    assert statuses == [201, 409, 409, 409, 409, 409]
    assert api.get("/orders?page_size=10").get_json()["total"] == 1
