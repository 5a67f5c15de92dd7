"""Errors of the label layer: bad field data and bad templates."""

from __future__ import annotations


class LabelError(ValueError):
    """Base of every error raised by the label layer."""


class LabelDataError(LabelError):
    """Field data that cannot go on a label (missing, too long, not encodable, bad check digit)."""


class TemplateError(LabelError):
    """A template that cannot be used (unknown name, bad block, content taller than the label)."""
