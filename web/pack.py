"""The pack station screen (``/pack/<station>``) and what it shares with the packing API.

The page is a shell: ``static/js/pack.js`` drives it through ``/api/v1/pack/...`` with the
browser session. Refusals are answered with their reason code and a message in the packer's
language (:func:`refusal_message`); the label preview is a PDF drawn from the drawing the
job's ZPL was rendered from (see ``wms.print_jobs``), because the only independent ZPL
renderer we know (zplkit) is OSL-3.0 and stays a test dependency.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from functools import cache
from typing import Any

from flask import Blueprint, Flask, abort, current_app, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from devices.scanner.driver import ScanRead
from labels.documents import Address
from labels.sscc import SsccScheme
from labels.templates import TemplateRegistry
from web.extensions import get_db, get_settings
from web.floor_devices import get_floor_devices
from web.security import roles_required
from web.spooler import get_spooler
from wms.config import Settings, label_registry
from wms.db.schema import Location
from wms.model import LocationType, Role
from wms.packing import CartonSpec, PackContext, PackRefusal

blueprint = Blueprint("pack", __name__)
PACKERS = (Role.PACKER, Role.SUPERVISOR)

# What each refusal or answer says to the packer; params fill the placeholders.
MESSAGES = {
    "unreadable": _l("The barcode could not be read. Scan it again or type it in."),
    "unknown_order": _l("No order, tote or cart slot %(scanned)s."),
    "already_packed": _l("Order %(order)s is already packed."),
    "not_picked": _l("Order %(order)s is not picked yet: it cannot be packed."),
    "not_an_item": _l("%(scanned)s is a parcel label, not an item."),
    "unknown_barcode": _l("No item has the barcode %(scanned)s."),
    "wrong_item": _l("Wrong item: %(sku)s is not in order %(order)s. Put it aside."),
    "too_many": _l("Too many %(sku)s: only %(remaining)s left to pack. Put it aside."),
    "lot_needed": _l("%(sku)s is tracked by lot: scan the barcode with the lot."),
    "wrong_lot": _l("Wrong lot %(lot)s of %(sku)s. Pack lot %(expected)s."),
    "serial_twice": _l("Serial %(serial)s is already packed."),
    "unknown_carton": _l("No carton %(carton)s."),
    "weight_needed": _l("Enter the parcel's weight."),
    "too_heavy": _l("Too heavy for carton %(carton)s: at most %(max)s g."),
    "parcel_empty": _l("The parcel is empty: scan its units first."),
    "missing": _l("%(units)s unit(s) not packed: %(items)s."),
    "label_error": _l("The label cannot be made: %(detail)s"),
    "unknown_dock": _l("No dock door %(dock)s."),
    "unknown_parcel": _l("No closed parcel has the label %(scanned)s."),
    "parcel_not_closed": _l("Parcel %(number)s of order %(order)s is not closed yet."),
    "already_loaded": _l("Parcel %(scanned)s is already loaded at %(dock)s."),
    "already_shipped": _l("Parcel %(scanned)s has already left."),
    "wrong_dock": _l("Wrong dock: order %(order)s leaves from %(expected)s."),
    "shipment_shipped": _l("Shipment %(shipment)s has already left."),
    "shipment_empty": _l("Shipment %(shipment)s has no parcel loaded."),
    "parcels_not_loaded": _l("Not every parcel is loaded: %(parcels)s."),
    "unit_ok": _l("%(sku)s packed: %(packed)s of %(picked)s."),
    "parcel_closed": _l("Parcel %(number)s closed. Scan the units of the next parcel."),
    "order_packed": _l("Order %(order)s packed. Labels sent to %(printer)s."),
    "order_packed_no_printer": _l("Order %(order)s packed. No printer is set for this station."),
}

# Words of the screen's script.
WORDS = {
    "preview": _l("Preview"),
    "reprint": _l("Reprint"),
    "void": _l("Void"),
    "offline": _l("No answer from the server. Check the network and try again."),
    "suggested": _l("Suggested: %(carton)s"),
    "none_fits": _l("No configured carton fits."),
    "remove": _l("Take out"),
    "packing_list": _l("Packing list"),
    "ship": _l("Truck leaves: ship"),
    "loaded": _l("Parcel %(parcel)s of order %(order)s loaded."),
    "shipped": _l("Shipment %(shipment)s shipped."),
    "nothing_open": _l("No open shipment at this dock."),
}

# Printer, print job and parcel states, for the screen (pybabel needs the literal strings).
STATE_WORDS = {
    "queued": _l("queued"),
    "sending": _l("sending"),
    "printed": _l("printed"),
    "failed": _l("failed"),
    "void": _l("void"),
    "ready": _l("ready"),
    "unknown": _l("unknown"),
    "paused": _l("paused"),
    "buffer_full": _l("buffer_full"),
    "temperature": _l("temperature"),
    "ram_error": _l("ram_error"),
    "ribbon_out": _l("ribbon_out"),
    "paper_out": _l("paper_out"),
    "head_open": _l("head_open"),
    "bad_reply": _l("bad_reply"),
    "no_reply": _l("no_reply"),
    "unreachable": _l("unreachable"),
    "open": _l("open"),
    "closed": _l("closed"),
    "loaded": _l("loaded"),
}


def message(reason: str, params: dict[str, Any]) -> str:
    """An answer or refusal in the user's language."""
    template = MESSAGES.get(reason)
    if template is None:
        return _("That did not work. Try again or ask your supervisor.")
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return str(template)


def refusal_body(refusal: PackRefusal) -> dict[str, Any]:
    """The JSON answer of a refusal: machine reason, its details, the packer's message."""
    return {
        "code": 422,
        "status": "Unprocessable Entity",
        "error": "pack_refused",
        "reason": refusal.reason,
        "details": refusal.params,
        "message": message(refusal.reason, refusal.params),
    }


def cartons(settings: Settings) -> list[CartonSpec]:
    """The configured cartons as the domain knows them."""
    return [
        CartonSpec(c.code, c.length_mm, c.width_mm, c.height_mm, c.max_weight_g, c.tare_g, c.name)
        for c in settings.cartons
    ]


def pack_context(settings: Settings, station: str) -> PackContext:
    """What closing a parcel at ``station`` needs from config.yaml."""
    printer = settings.station_printer(station)
    return PackContext(
        cartons(settings),
        SsccScheme(settings.labels.gs1_company_prefix, settings.labels.sscc_extension_digit),
        Address(settings.site_name),
        # The spooler drives ZPL printers; a PDF-only printer gets no label jobs (yet).
        printer.name if printer is not None and printer.driver == "zpl" else None,
        _registry(tuple(settings.labels.templates)),
    )


@cache
def _registry(paths: tuple[str, ...]) -> TemplateRegistry | None:
    """The label templates, read once (load_settings checked the files at start)."""
    return label_registry(list(paths)) if paths else None


class StationScans:
    """Scans of the pack stations' fixed serial scanners, kept for their screens to fetch.

    The floor devices read the scanners; this listener keeps the last scans of each station
    with a sequence number, and a screen long-polls for the ones after its last.
    """

    KEEP = 50

    def __init__(self, scanner_station: dict[str, str]) -> None:
        self.scanner_station = scanner_station
        self._changed = threading.Condition()
        self._seq = 0
        self._scans: dict[str, deque[tuple[int, str]]] = {}

    def on_event(self, topic: str, data: Any) -> None:
        """Floor devices listener: keep a scan read by one of the stations' scanners."""
        if topic != "scan" or not isinstance(data, ScanRead):
            return
        station = self.scanner_station.get(data.device)
        if station is None:
            return
        with self._changed:
            self._seq += 1
            self._scans.setdefault(station, deque(maxlen=self.KEEP)).append(
                (self._seq, data.scan.raw)
            )
            self._changed.notify_all()

    def after(self, station: str, seq: int, wait: float) -> tuple[list[tuple[int, str]], int]:
        """The station's scans after ``seq``, waiting up to ``wait`` s for one; and the last seq."""
        deadline = time.monotonic() + wait
        with self._changed:
            while True:
                found = [scan for scan in self._scans.get(station, ()) if scan[0] > seq]
                remaining = deadline - time.monotonic()
                if found or remaining <= 0:
                    return found, self._seq
                self._changed.wait(remaining)


def station_scans(app: Flask) -> StationScans:
    """The app's station scans, listening to the floor devices from the first call on."""
    scans = app.extensions.get("wms_station_scans")
    if isinstance(scans, StationScans):
        return scans
    settings: Settings = app.extensions["wms_settings"]
    mapping: dict[str, str] = {}
    for station in settings.pack_stations:
        for device in settings.devices:
            if device.kind == "scanner" and (
                device.name == station.scanner or device.station == station.name
            ):
                mapping[device.name] = station.name
    scans = StationScans(mapping)
    app.extensions["wms_station_scans"] = scans
    floor = get_floor_devices(app)
    if floor is not None:
        floor.add_listener(scans.on_event)
    return scans


def station_has_scanner(settings: Settings, station: str) -> bool:
    """Whether a serial scanner serves ``station``."""
    configured = settings.pack_station(station)
    return any(
        d.kind == "scanner"
        and (d.station == station or (configured is not None and d.name == configured.scanner))
        for d in settings.devices
    )


def known_station(station: str) -> None:
    """404 for a station that config.yaml does not list."""
    if get_settings().pack_station(station) is None:
        abort(404)


@blueprint.route("/pack")
@roles_required(*PACKERS)
def stations() -> Any:
    """The configured pack stations and the dock doors, to pick one."""
    settings = get_settings()
    with get_db().read() as session:
        docks = session.scalars(
            select(Location.code)
            .where(Location.type == LocationType.DOCK, Location.active.is_(True))
            .order_by(Location.code)
        ).all()
    spooler = get_spooler(current_app)
    printers = {}
    for station in settings.pack_stations:
        printer = settings.station_printer(station.name)
        if printer is not None:
            printers[station.name] = spooler.view(printer.name)
    return render_template(
        "pages/pack_stations.html",
        stations=settings.pack_stations,
        docks=docks,
        printers=printers,
        states=STATE_WORDS,
    )


@blueprint.route("/pack/<station>")
@roles_required(*PACKERS)
def station_page(station: str) -> Any:
    """The packer's screen at one station."""
    known_station(station)
    settings = get_settings()
    printer = settings.station_printer(station)
    station_scans(current_app)  # start listening before the screen asks
    return render_template(
        "pages/pack.html",
        station=station,
        scanner=station_has_scanner(settings, station),
        printer=printer.name if printer else None,
        cartons=settings.cartons,
        messages={key: str(value) for key, value in MESSAGES.items()},
        states={key: str(value) for key, value in STATE_WORDS.items()},
        words={key: str(value) for key, value in WORDS.items()},
        api=url_for("pack.station_page", station=station),
    )


@blueprint.route("/pack/dock/<dock>")
@roles_required(*PACKERS)
def dock_page(dock: str) -> Any:
    """Loading at one dock door: scan each parcel label onto its carrier's shipment, ship."""
    with get_db().read() as session:
        known = session.scalar(
            select(Location.id).where(Location.code == dock, Location.type == LocationType.DOCK)
        )
    if known is None:
        abort(404)
    return render_template(
        "pages/pack_dock.html",
        dock=dock,
        messages={key: str(value) for key, value in MESSAGES.items()},
        states={key: str(value) for key, value in STATE_WORDS.items()},
        words={key: str(value) for key, value in WORDS.items()},
    )
