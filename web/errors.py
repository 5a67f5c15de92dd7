"""One place that turns errors into answers a person can act on: JSON for the API, pages else."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from wms.errors import WmsError

log = logging.getLogger(__name__)

_HINTS = {
    400: _l("The request could not be read. Check its format and try again."),
    401: _l("Sign in first."),
    403: _l("Your role does not allow this. Ask a supervisor or an administrator."),
    404: _l("Nothing is at this address. Check the link or the number you typed."),
    405: _l("This address does not accept that method."),
    409: _l("This clashes with what is already recorded."),
    413: _l("The request is too large."),
    422: _l("Some values are not valid; see the details."),
    500: _l(
        "Something went wrong on the server. It has been logged; try again, "
        "and tell a supervisor if it happens again."
    ),
}


def _is_api() -> bool:
    return request.path.startswith("/api/")


def _answer(status: int, message: str, **extra: Any) -> Any:
    if _is_api():
        response = jsonify(code=status, status=_status_name(status), message=message, **extra)
        response.status_code = status
        return response
    return render_template("error.html", status=status, message=message), status


def _status_name(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def register(app: Flask) -> None:
    """Install the error handlers on ``app``."""

    @app.errorhandler(WmsError)
    def _domain_error(error: WmsError) -> Any:
        details = {
            k: v for k, v in error.details.items() if isinstance(v, str | int | float | list)
        }
        return _answer(error.http_status, error.message, error=error.code, details=details)

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> Any:
        return _answer(
            400, _("This form expired or was sent from elsewhere. Reload the page and try again.")
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Any:
        status = error.code or 500
        # flask-smorest puts validation messages in error.data["messages"].
        data = getattr(error, "data", None) or {}
        extra: dict[str, Any] = {}
        if "messages" in data:
            extra["errors"] = data["messages"]
        message = str(_HINTS[status]) if status in _HINTS else (error.description or "Error")
        if status == 422 and "messages" in data:
            message = _("Some values are not valid; see 'errors' for each field.")
        return _answer(status, message, **extra)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _answer(500, str(_HINTS[500]))
