"""Typed domain errors; the web layer turns each into a message in the user's language."""

from __future__ import annotations

from typing import Any


class WmsError(Exception):
    """Base of every error the domain raises on purpose; carries a code and its details."""

    code = "wms_error"
    http_status = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(WmsError):
    """A referenced item, location, order or user does not exist."""

    code = "not_found"
    http_status = 404


class Conflict(WmsError):
    """The request clashes with what is already recorded (a duplicate order number, say)."""

    code = "conflict"
    http_status = 409


class InvalidInput(WmsError):
    """A value is malformed or out of range."""

    code = "invalid_input"
    http_status = 422


class InsufficientStock(WmsError):
    """A movement or reservation asked for more than the location holds."""

    code = "insufficient_stock"
    http_status = 409


class LedgerMismatch(WmsError):
    """On-hand and the ledger disagree; never expected, reported loudly if it happens."""

    code = "ledger_mismatch"
    http_status = 500
