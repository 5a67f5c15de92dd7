"""The versioned REST API for integrators, with its OpenAPI description."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from web.api import actions, flow, items, locations, orders, stock
from web.api import kpis as kpis_api
from web.api import pack as pack_api
from web.api.common import ErrorSchema
from web.extensions import csrf

API_PREFIX = "/api/v1"
API_VERSION = "1.0.0"
# The swagger-ui-dist npm package, copied here at setup: the docs page needs no CDN.
SWAGGER_UI_URL = "/static/vendor/swagger-ui/"

DESCRIPTION = """\
The floor execution app's REST API for the ERP, the webshop and other integrations:
push items, locations and orders in; read order status, history and stock out.

**Authentication.** Send an API token on every request as
`Authorization: Bearer <token>` (an administrator creates tokens for integration users).
A signed-in browser session also works; it must then send its CSRF token in the
`X-CSRFToken` header on every POST. Without either the answer is `401`; a role that may not
do something gets `403`.

**Roles.** Reading: supervisor, packer, integration. Creating orders, cancelling them and
changing their lines, confirming picks, short picks and replenishments: integration,
supervisor. Holding, expediting and re-allocating orders, planning and releasing waves:
supervisor. Creating items and locations: integration. Administrators may do everything.

**Paging.** Lists take `page` (from 1) and `page_size` (1 to 500, default 50) and answer
`{"items": [...], "page", "page_size", "total", "pages"}`; `total` counts every row that
matches the filters.

**Errors.** Every error is JSON: `{"code", "status", "message"}`, where `message` says what
to fix. Invalid fields (`422`) add `errors`, by location (`json` or `query`) and field path;
business refusals add `error` (a machine-readable reason such as `conflict` or
`invalid_input`) and `details`. A body that is not JSON is `400`, or `415` without
`Content-Type: application/json`; a duplicate is `409`; an unknown number or code is `404`.
Nothing is half-written: a refused request changes nothing.

**Formats.** Date-times are ISO 8601; one sent without an offset is taken as UTC and every
answer is in UTC. Dates are `YYYY-MM-DD`. Enumerations are lower-case strings.
"""


class WmsApi(Api):  # type: ignore[misc]
    """flask-smorest's Api with the app's own error body in the description."""

    ERROR_SCHEMA = ErrorSchema


def init_api(app: Flask) -> None:
    """Register the API blueprints on ``app``."""
    for key, value in {
        "API_TITLE": "Warehouse floor execution API",
        "API_VERSION": API_VERSION,
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": API_PREFIX,
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": SWAGGER_UI_URL,
        "OPENAPI_SWAGGER_UI_CONFIG": {"persistAuthorization": True, "deepLinking": True},
        "API_SPEC_OPTIONS": {
            "info": {"description": DESCRIPTION},
            "servers": [{"url": "/", "description": "This server"}],
            "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        },
    }.items():
        app.config.setdefault(key, value)

    api = WmsApi(app)
    api.spec.components.security_scheme(
        "bearerAuth",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token of an integration user",
        },
    )
    api.spec.components.security_scheme(
        "sessionCookie",
        {
            "type": "apiKey",
            "in": "cookie",
            "name": app.config.get("SESSION_COOKIE_NAME", "session"),
            "description": "A signed-in browser session; POSTs also need the X-CSRFToken header",
        },
    )
    blueprints = (items.blp, locations.blp, stock.blp, orders.blp, *flow.BLUEPRINTS)
    for blueprint in (*blueprints, kpis_api.blp, actions.blp, *pack_api.BLUEPRINTS):
        # Token requests carry no cookie to forge; the blueprints' own guard checks CSRF
        # for cookie sessions.
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
    app.extensions["wms_api"] = api
