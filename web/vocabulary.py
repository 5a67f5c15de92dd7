"""Words the screens show from data (roles, statuses, zone kinds), marked for translation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# pybabel only extracts literal strings; templates translate these values with _(value).
VOCABULARY = (
    _l("picker"),
    _l("packer"),
    _l("supervisor"),
    _l("admin"),
    _l("integration"),
    _l("received"),
    _l("allocated"),
    _l("partly_allocated"),
    _l("backordered"),
    _l("released"),
    _l("picking"),
    _l("picked"),
    _l("packed"),
    _l("shipped"),
    _l("cancelled"),
    _l("held"),
    _l("handheld"),
    _l("pick_to_light"),
    _l("put_wall"),
    _l("reserve"),
    _l("shipping"),
)
