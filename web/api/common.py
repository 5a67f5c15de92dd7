"""What every API resource shares: the guard, error answers, paging, fields and time handling."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from web.extensions import csrf, login_manager
from web.security import roles_required
from wms.errors import Conflict, NotFound, WmsError
from wms.model import Role

F = TypeVar("F", bound=Callable[..., Any])
S = TypeVar("S", bound=Select)  # type: ignore[type-arg]

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50
# Integer columns are 32-bit on PostgreSQL; a larger number must be refused, not overflow.
MAX_INT = 2**31 - 1
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

READERS = (Role.SUPERVISOR, Role.PACKER, Role.INTEGRATION)
ORDER_WRITERS = (Role.INTEGRATION, Role.SUPERVISOR)
MASTER_DATA_WRITERS = (Role.INTEGRATION,)


class MalformedBody(WmsError):
    """The request body is not JSON that can be read."""

    code = "malformed_body"
    http_status = 400


class UnsupportedBody(WmsError):
    """The request body is not sent as ``application/json``."""

    code = "unsupported_media_type"
    http_status = 415


# --- fields -------------------------------------------------------------------------------


def _is_storable(text: str) -> bool:
    """Whether UTF-8 can encode ``text`` (JSON may carry lone surrogates that it cannot)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Text(fields.String):
    """A string the database can store: NUL characters and lone surrogates are refused."""

    default_error_messages = {
        "nul": "Must not contain NUL (\\u0000) characters.",
        "unicode": "Must be valid Unicode text (no lone surrogate escapes).",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise self.make_error("nul")
        if not _is_storable(text):
            raise self.make_error("unicode")
        return text


class JsonObject(fields.Dict):
    """A free-form JSON object with text keys, refused if the database could not store it."""

    default_error_messages = {"unicode": "Must be valid Unicode text (no lone surrogate escapes)."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(keys=fields.String(), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        loaded = super()._deserialize(value, attr, data, **kwargs)
        if not _is_storable(json.dumps(loaded, ensure_ascii=False)):
            raise self.make_error("unicode")
        return loaded


def utc(value: dt.datetime | None) -> dt.datetime | None:
    """The same instant in UTC; a naive value (SQLite keeps no offset) is taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


class Instant(fields.AwareDateTime):
    """An ISO 8601 date-time, read as UTC when it has no offset, and loaded in UTC."""

    default_error_messages = {"range": "Must be a date-time between years 1 and 9999 in UTC."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", default_timezone=dt.UTC, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(dt.UTC)
        except OverflowError:
            raise self.make_error("range") from None


# --- errors -------------------------------------------------------------------------------


class ErrorSchema(Schema):
    """The JSON body of every error answer."""

    code = fields.Integer(metadata={"description": "HTTP status code", "example": 422})
    status = fields.String(metadata={"description": "HTTP status name"})
    message = fields.String(
        metadata={"description": "What went wrong and what to do about it, for a person"}
    )
    errors = fields.Dict(
        metadata={
            "description": "Validation errors by location ('json', 'query') and field path; "
            "list positions are numbered from 0"
        }
    )
    error = fields.String(
        metadata={
            "description": "Machine-readable reason of a business rule refusal, e.g. "
            "'conflict', 'not_found', 'invalid_input', 'malformed_body'"
        }
    )
    details = fields.Dict(metadata={"description": "Values that explain a business refusal"})


def _flatten(messages: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(field path, message) pairs of marshmallow's nested error messages."""
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            if key == "_schema":
                sub = path
            elif isinstance(key, int):
                sub = f"{path}[{key}]"
            else:
                sub = f"{path}.{key}" if path else str(key)
            yield from _flatten(value, sub)
    elif isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            yield path, " ".join(messages)
        else:
            for message in messages:
                yield from _flatten(message, path)
    else:
        yield path, str(messages)


def _stringify_keys(messages: Any) -> Any:
    """JSON object keys must be strings (marshmallow numbers list positions)."""
    if isinstance(messages, Mapping):
        return {str(k): _stringify_keys(v) for k, v in messages.items()}
    if isinstance(messages, list | tuple):
        return [_stringify_keys(m) for m in messages]
    return messages


def validation_summary(messages: Mapping[str, Any]) -> str:
    """One sentence naming each invalid field and what it expects."""
    parts = []
    for location, located in messages.items():
        for path, message in _flatten(located):
            text = message.rstrip(".")
            text = text[:1].lower() + text[1:]
            if location == "query":
                parts.append(f"query parameter {path!r}: {text}")
            elif path:
                parts.append(f"{path}: {text}")
            else:
                parts.append(f"body: {text}")
    if not parts:
        return "Some values are not valid."
    return "Some values are not valid: " + "; ".join(parts) + "."


def _validation_failed(error: HTTPException) -> ResponseReturnValue:
    """A 422 from request parsing: the standard error body with a readable summary."""
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or {}
    body: dict[str, Any] = {
        "code": 422,
        "status": "Unprocessable Entity",
        "message": validation_summary(messages)
        if messages
        else "Some values are not valid; check the request against the API description.",
    }
    if messages:
        body["errors"] = _stringify_keys(messages)
    response = jsonify(body)
    response.status_code = 422
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    return response


# --- the guard ----------------------------------------------------------------------------


def _check_json_body() -> None:
    """Refuse a body that is not JSON with a message saying what is wrong with it."""
    if not request.is_json:
        raise UnsupportedBody(
            "Send the body as JSON with the header 'Content-Type: application/json' "
            f"(got {request.mimetype or 'no Content-Type'!r}).",
            content_type=request.mimetype or "",
        )
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise MalformedBody("The body is empty; send a JSON object.")
    try:
        json.loads(raw)
    except UnicodeDecodeError:
        raise MalformedBody("The body is not UTF-8 text; send UTF-8 encoded JSON.") from None
    except json.JSONDecodeError as error:
        raise MalformedBody(
            f"The body is not valid JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}.",
            line=error.lineno,
            column=error.colno,
        ) from None


def _guard() -> ResponseReturnValue | None:
    """Signed-in users only, and a CSRF token from cookie sessions (token requests need none)."""
    if not current_user.is_authenticated:  # also runs the bearer-token loader
        return cast(ResponseReturnValue, login_manager.unauthorized())
    if any("\x00" in str(value) for value in (request.view_args or {}).values()):
        # PostgreSQL cannot even compare such text; no code or number ever contains one.
        raise NotFound(f"nothing is at {request.path!r}: codes never contain NUL characters")
    by_cookie = not g.get("authenticated_by_token")
    if request.method in UNSAFE_METHODS and by_cookie and current_app.config["WTF_CSRF_ENABLED"]:
        csrf.protect()
    return None


def api_blueprint(name: str, import_name: str, url_prefix: str, description: str) -> Blueprint:
    """A blueprint of the API: guarded, CSRF handled here, with readable validation errors."""
    blp = Blueprint(name, import_name, url_prefix=url_prefix, description=description)
    blp.before_request(_guard)
    blp.register_error_handler(422, _validation_failed)
    return blp


def allow(blp: Blueprint, *roles: Role) -> Callable[[F], F]:
    """Let only ``roles`` (and admins) call a view, and say so in the API description."""

    def decorate(view: F) -> F:
        guarded = roles_required(*roles)(view)
        guarded = blp.alt_response(401, response="UNAUTHORIZED")(guarded)
        guarded = blp.alt_response(403, response="FORBIDDEN")(guarded)
        allowed = sorted({role.value for role in roles} | {Role.ADMIN.value})
        doc = blp.doc(description=f"Roles: {', '.join(allowed)}.", **{"x-roles": allowed})
        return doc(guarded)  # type: ignore[no-any-return]

    return decorate


def reads_json(blp: Blueprint, *statuses: int) -> Callable[[F], F]:
    """Refuse a body that is not JSON (after the role check), and document the answers."""

    def decorate(view: F) -> F:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            _check_json_body()
            return view(*args, **kwargs)

        guarded: Any = checked
        for status in (400, 415, *statuses):
            name = {400: "BAD_REQUEST", 409: "CONFLICT", 415: "UNSUPPORTED_MEDIA_TYPE"}[status]
            guarded = blp.alt_response(status, response=name)(guarded)
        return cast(F, guarded)

    return decorate


# --- paging -------------------------------------------------------------------------------


class PageArgs(Schema):
    """Which page of a list to answer."""

    page = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=MAX_INT),
        metadata={"description": "Page number, from 1"},
    )
    page_size = fields.Integer(
        load_default=DEFAULT_PAGE_SIZE,
        validate=validate.Range(min=1, max=MAX_PAGE_SIZE),
        metadata={"description": f"Rows per page, 1 to {MAX_PAGE_SIZE}"},
    )


class PageSchema(Schema):
    """The paging part of every list answer."""

    page = fields.Integer(required=True, metadata={"description": "This page's number"})
    page_size = fields.Integer(required=True, metadata={"description": "Rows per page asked"})
    total = fields.Integer(
        required=True, metadata={"description": "Rows matching the filters, on all pages"}
    )
    pages = fields.Integer(required=True, metadata={"description": "Number of pages"})


def count(session: Session, query: Select) -> int:  # type: ignore[type-arg]
    """How many rows ``query`` selects, counted in SQL."""
    return int(
        session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    )


def page_info(args: Mapping[str, Any], total: int) -> dict[str, int]:
    """The paging fields of a list answer."""
    size = int(args["page_size"])
    return {
        "page": int(args["page"]),
        "page_size": size,
        "total": total,
        "pages": math.ceil(total / size) if total else 0,
    }


def limit_page(query: S, args: Mapping[str, Any]) -> S:
    """``query`` restricted to the asked page (LIMIT/OFFSET)."""
    size = int(args["page_size"])
    return query.limit(size).offset((int(args["page"]) - 1) * size)


@contextmanager
def clash_is_conflict(message: str) -> Iterator[None]:
    """Turn a unique-key clash with a concurrent request into the same 409 a late one gets."""
    try:
        yield
    except IntegrityError as error:
        raise Conflict(f"{message} (another request recorded it a moment ago)") from error
