"""The OpenAPI description: valid OpenAPI 3, complete, and a Swagger UI page without a CDN."""

from __future__ import annotations

import re

import pytest

from web.api import API_PREFIX

DOC_ROUTES = {f"{API_PREFIX}/openapi.json", f"{API_PREFIX}/docs"}


@pytest.fixture
def spec(client) -> dict:
    response = client.get(f"{API_PREFIX}/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_the_description_is_valid_openapi_3(spec):
    validator = pytest.importorskip("openapi_spec_validator")
    assert spec["openapi"].startswith("3.")
    validator.validate(spec)


def test_it_names_the_api_and_explains_auth_paging_and_errors(spec):
    info = spec["info"]
    assert info["title"] and info["version"]
    for words in ("Authorization: Bearer <token>", "X-CSRFToken", "page_size", "409", "422"):
        assert words in info["description"]
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token of an integration user",
    }
    assert {"bearerAuth": []} in spec["security"]
    error = spec["components"]["schemas"]["Error"]["properties"]
    assert {"code", "status", "message", "errors", "error", "details"} <= error.keys()


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_every_api_route_is_described_with_its_methods(app, spec):
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API_PREFIX) and rule.rule not in DOC_ROUTES:
            methods = {m.lower() for m in rule.methods or ()} - {"head", "options"}
            routes.setdefault(_openapi_path(rule.rule), set()).update(methods)
    described = {
        path: {m for m in operations if m in {"get", "post", "put", "patch", "delete"}}
        for path, operations in spec["paths"].items()
    }
    assert described == routes
    assert set(routes) == {
        "/api/v1/items",
        "/api/v1/items/{sku}",
        "/api/v1/locations",
        "/api/v1/locations/{code}",
        "/api/v1/stock",
        "/api/v1/orders",
        "/api/v1/orders/{number}",
        "/api/v1/orders/{number}/cancel",
        "/api/v1/orders/{number}/hold",
        "/api/v1/orders/{number}/unhold",
        "/api/v1/orders/{number}/expedite",
        "/api/v1/orders/{number}/allocate",
        "/api/v1/orders/{number}/lines/{line_no}",
        "/api/v1/waves",
        "/api/v1/waves/plan",
        "/api/v1/waves/{code}/release",
        "/api/v1/release/continuous",
        "/api/v1/batches",
        "/api/v1/batches/{code}",
        "/api/v1/batches/{code}/reassign",
        "/api/v1/tasks/{task_id}/confirm",
        "/api/v1/tasks/{task_id}/short",
        "/api/v1/replenishments",
        "/api/v1/replenishments/{replenishment_id}/complete",
        "/api/v1/exceptions",
        "/api/v1/kpis",
        "/api/v1/actions/waves/{code}/release",
        "/api/v1/actions/waves/{code}/hold",
        "/api/v1/actions/orders/{number}/expedite",
        "/api/v1/actions/orders/{number}/cancel",
        "/api/v1/actions/tasks/{task_id}/cancel",
        "/api/v1/actions/batches/{code}/reassign",
        "/api/v1/actions/pickers/{username}/pause",
        "/api/v1/actions/exceptions/{exception_id}/resolve",
        "/api/v1/actions/audit",
        "/api/v1/actions/print-jobs/{job_id}/reprint",
        "/api/v1/actions/print-jobs/{job_id}/void",
        "/api/v1/pack/stations/{station}",
        "/api/v1/pack/stations/{station}/scans",
        "/api/v1/pack/stations/{station}/open",
        "/api/v1/pack/orders/{number}",
        "/api/v1/pack/orders/{number}/packing-list.pdf",
        "/api/v1/pack/orders/{number}/labels.pdf",
        "/api/v1/pack/orders/{number}/scan",
        "/api/v1/pack/orders/{number}/contents/{content_id}/remove",
        "/api/v1/pack/orders/{number}/close",
        "/api/v1/print-jobs",
        "/api/v1/print-jobs/{job_id}",
        "/api/v1/print-jobs/{job_id}/preview.pdf",
        "/api/v1/print-jobs/{job_id}/reprint",
        "/api/v1/print-jobs/{job_id}/void",
        "/api/v1/parcels",
        "/api/v1/docks/{dock}/load",
        "/api/v1/shipments",
        "/api/v1/shipments/{shipment_id}/ship",
    }


def test_every_operation_documents_its_answers_and_roles(spec):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            where = f"{method.upper()} {path}"
            responses = operation["responses"]
            assert {"401", "403", "default"} <= responses.keys(), where
            assert operation["summary"], where
            assert operation["x-roles"] and "admin" in operation["x-roles"], where
            assert operation["description"].startswith("Roles: "), where
            if method == "post":
                # 201 when it creates something; actions on an existing resource answer 200.
                assert {"201", "200"} & responses.keys(), where
                assert {"400", "409", "415", "422"} <= responses.keys(), where
                assert "$ref" in operation["requestBody"]["content"]["application/json"]["schema"]
            elif "{" in path:
                assert "404" in responses, where
            else:
                assert "422" in responses, where
                names = {p["name"] for p in operation["parameters"]}
                if path != "/api/v1/kpis":  # a report for a range, not a list
                    assert {"page", "page_size"} <= names, where


def test_list_filters_and_enums_are_described(spec):
    orders = {p["name"]: p for p in spec["paths"]["/api/v1/orders"]["get"]["parameters"]}
    assert {"status", "kind", "customer", "carrier", "cut_off_before", "cut_off_after"} <= set(
        orders
    )
    assert "picking" in orders["status"]["schema"]["items"]["enum"]
    assert orders["page_size"]["schema"]["maximum"] == 500
    stock = {p["name"] for p in spec["paths"]["/api/v1/stock"]["get"]["parameters"]}
    assert {"sku", "location", "zone", "lot"} <= stock
    items = {p["name"] for p in spec["paths"]["/api/v1/items"]["get"]["parameters"]}
    assert {"sku_prefix", "gtin", "lot_tracked"} <= items
    line = spec["components"]["schemas"]["LineIn"]["properties"]["quantity"]
    assert line["minimum"] == 1
    order = spec["components"]["schemas"]["OrderDetail"]["properties"]
    assert {"history", "lines", "cut_off", "delivery_window", "label_requirements"} <= set(order)


def test_swagger_ui_is_served_from_our_own_static_files(client):
    response = client.get(f"{API_PREFIX}/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        assert f'"/static/vendor/swagger-ui/{asset}"' in page
    assert f"{API_PREFIX}/openapi.json" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page), "no asset may come from a CDN"
