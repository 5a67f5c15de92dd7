"""Packing, print jobs, parcels and shipments through the API (the pack screen uses it too)."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify
from flask_login import current_user
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from labels.errors import LabelError
from labels.pdf import drawings_pdf, packing_list_pdf
from labels.zpl import label_drawing
from web.api.common import (
    MAX_INT,
    READERS,
    PageArgs,
    Text,
    api_blueprint,
    count,
    limit_page,
    page_info,
    reads_json,
)
from web.api.flow import NoFieldsSchema, optional_json, permit
from web.extensions import get_db, get_settings
from web.pack import (
    PACKERS,
    known_station,
    message,
    pack_context,
    refusal_body,
    station_scans,
)
from web.spooler import get_spooler
from wms import print_jobs, shipping
from wms.db.schema import Parcel, PrintJob, Shipment
from wms.errors import NotFound
from wms.model import ShipmentStatus
from wms.orders import order_by_number
from wms.packing import (
    PackRefusal,
    close_parcel,
    find_order,
    pack_view,
    packing_list,
    parcel_labels,
    remove_from_parcel,
    scan_unit,
)

blp = api_blueprint(
    "Packing",
    __name__,
    "/api/v1/pack",
    "The pack station: open an order by scanning it, verify every unit by scan into the parcel, "
    "close parcels with carton and weight. Refusals answer 422 with `reason` (a code), "
    "`details` and a `message` in the user's language.",
)
jobs_blp = api_blueprint(
    "Print jobs",
    __name__ + ".jobs",
    "/api/v1/print-jobs",
    "Labels waiting for, or sent to, a printer: state, attempts, last error; reprint, void, "
    "and a PDF preview drawn from the very layout the job's ZPL came from.",
)
ship_blp = api_blueprint(
    "Shipping",
    __name__ + ".ship",
    "/api/v1",
    "Parcels with their SSCC and tracking number; shipments by carrier and dock door, loaded "
    "by scanning each parcel label at the dock, then shipped.",
)
BLUEPRINTS = (blp, jobs_blp, ship_blp)


def _refused(refusal: PackRefusal) -> Response:
    response = jsonify(refusal_body(refusal))
    response.status_code = 422
    return response


def _user_id() -> int:
    return int(current_user.id)


def _view(number: str, station: str | None = None) -> dict[str, Any]:
    settings = get_settings()
    with get_db().read() as session:
        order = order_by_number(session, number)
        view = pack_view(session, order.id, pack_context(settings, station or "").cartons)
        data = view.as_dict()
        data["print_jobs"] = [
            print_jobs.job_view(job) for job in print_jobs.jobs(session, order_id=order.id)
        ]
    return data


# --- pack station --------------------------------------------------------------------------


class OpenSchema(Schema):
    """A scan that names an order: its number, its tote, or its cart slot (CART/3)."""

    scan = Text(required=True, validate=validate.Length(min=1, max=200))


class ScanSchema(Schema):
    """One scanned unit or case."""

    scan = Text(required=True, validate=validate.Length(min=1, max=200))
    station = Text(load_default="", validate=validate.Length(max=40))


class CloseSchema(Schema):
    """Close the open parcel."""

    carton = Text(required=True, validate=validate.Length(min=1, max=24))
    weight_g = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=MAX_INT)
    )
    split = fields.Boolean(
        load_default=False,
        metadata={"description": "Units are left for another parcel (else they are missing)"},
    )
    station = Text(load_default="", validate=validate.Length(max=40))


@blp.route("/stations/<station>")
@permit(blp, *PACKERS)
@blp.alt_response(404, response="NOT_FOUND")
@blp.response(200)
def station_state(station: str) -> dict[str, Any]:
    """A pack station: its printer's state and the newest print jobs."""
    known_station(station)
    settings = get_settings()
    context = pack_context(settings, station)
    spooler = get_spooler(current_app)
    printer: dict[str, Any] | None = None
    recent: list[dict[str, Any]] = []
    if context.printer is not None:
        view = spooler.view(context.printer)
        printer = {
            "name": view.name,
            "state": view.state,
            "message": view.message,
            "can_print": view.can_print,
        }
        with get_db().read() as session:
            recent = [
                print_jobs.job_view(job)
                for job in print_jobs.jobs(session, printer=context.printer, limit=10)
            ]
    return {
        "station": station,
        "printer": printer,
        "print_jobs": recent,
        "cartons": [
            {"code": c.code, "name": c.name, "max_weight_g": c.max_weight_g}
            for c in context.cartons
        ],
    }


class ScansArgs(Schema):
    """Which scans of the station's serial scanner to answer."""

    after = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=2**62),
        metadata={"description": "The last sequence number the screen has seen"},
    )
    wait = fields.Float(
        load_default=20.0,
        validate=validate.Range(min=0, max=30),
        metadata={"description": "Seconds to wait for a scan when there is none yet"},
    )


@blp.route("/stations/<station>/scans")
@permit(blp, *PACKERS)
@blp.alt_response(404, response="NOT_FOUND")
@blp.arguments(ScansArgs, location="query")
@blp.response(200)
def station_scanner(args: dict[str, Any], station: str) -> dict[str, Any]:
    """Scans read by the station's serial scanner after ``after`` (a long poll).

    The screen feeds each one to the same handling as a wedge scan.
    """
    known_station(station)
    scans, last = station_scans(current_app).after(station, args["after"], args["wait"])
    return {"scans": [{"seq": seq, "raw": raw} for seq, raw in scans], "last": last}


@blp.route("/stations/<station>/open", methods=["POST"])
@permit(blp, *PACKERS)
@blp.alt_response(404, response="NOT_FOUND")
@reads_json(blp, 409)
@blp.arguments(OpenSchema)
@blp.response(200)
def open_order(body: dict[str, Any], station: str) -> Any:
    """Open the order a scan names, for packing at this station."""
    known_station(station)
    try:
        with get_db().read() as session:
            number = find_order(session, body["scan"]).number
    except PackRefusal as refusal:
        return _refused(refusal)
    return _view(number, station)


@blp.route("/orders/<number>")
@permit(blp, *READERS)
@blp.alt_response(404, response="NOT_FOUND")
@blp.response(200)
def get_pack_order(number: str) -> dict[str, Any]:
    """An order's lines as packed so far, its parcels and its print jobs."""
    return _view(number)


@blp.route("/orders/<number>/packing-list.pdf")
@permit(blp, *READERS)
@blp.alt_response(404, response="NOT_FOUND")
@blp.response(200, content_type="application/pdf", description="The A4 packing list")
def packing_list_document(number: str) -> Response:
    """The order's packing list as packed (A4 PDF with barcodes), to put in the first parcel."""
    settings = get_settings()
    with get_db().read() as session:
        document = packing_list(
            session, order_by_number(session, number).id, pack_context(settings, "").ship_from
        )
    return Response(
        packing_list_pdf(document),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="packing-list-{number}.pdf"'},
    )


@blp.route("/orders/<number>/labels.pdf")
@permit(blp, *READERS)
@blp.alt_response(404, response="NOT_FOUND")
@blp.response(200, content_type="application/pdf", description="The parcels' labels")
def labels_document(number: str) -> Response:
    """The labels of the order's closed parcels as PDF, one page each, for sites (or a
    station) without a Zebra: the same layouts the ZPL is rendered from, on any printer.
    """
    context = pack_context(get_settings(), "")
    with get_db().read() as session:
        order = order_by_number(session, number)
        try:
            drawings = [
                label_drawing(document, context.registry)
                for _parcel, document in parcel_labels(session, order, context)
            ]
        except LabelError as error:
            return _refused(PackRefusal("label_error", {"detail": str(error)}))
    if not drawings:
        raise NotFound(f"order {number} has no closed parcel yet", number=number)
    return Response(
        drawings_pdf(drawings),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="labels-{number}.pdf"'},
    )


@blp.route("/orders/<number>/scan", methods=["POST"])
@permit(blp, *PACKERS)
@blp.alt_response(404, response="NOT_FOUND")
@reads_json(blp, 409)
@blp.arguments(ScanSchema)
@blp.response(200)
def scan(body: dict[str, Any], number: str) -> Any:
    """Verify one scanned unit or case into the order's open parcel."""
    try:
        with get_db().write() as session:
            order = order_by_number(session, number)
            result = scan_unit(
                session, order.id, body["scan"], station=body["station"], user_id=_user_id()
            )
    except PackRefusal as refusal:
        return _refused(refusal)
    data = _view(number, body["station"] or None)
    params = {"sku": result.sku, "packed": result.packed, "picked": result.picked}
    data["answer"] = {"reason": "unit_ok", "message": message("unit_ok", params)}
    return data


@blp.route("/orders/<number>/contents/<int:content_id>/remove", methods=["POST"])
@permit(blp, *PACKERS)
@blp.alt_response(404, response="NOT_FOUND")
@optional_json(blp, 409)
@blp.arguments(NoFieldsSchema, required=False)
@blp.response(200)
def remove(_body: dict[str, Any], number: str, content_id: int) -> dict[str, Any]:
    """Take a scanned line back out of the open parcel."""
    with get_db().write() as session:
        remove_from_parcel(session, order_by_number(session, number).id, content_id)
    return _view(number)


@blp.route("/orders/<number>/close", methods=["POST"])
@permit(blp, *PACKERS)
@blp.alt_response(404, response="NOT_FOUND")
@reads_json(blp, 409)
@blp.arguments(CloseSchema)
@blp.response(200)
def close(body: dict[str, Any], number: str) -> Any:
    """Close the open parcel; closing the last one packs the order and prints its labels."""
    station = body["station"]
    context = pack_context(get_settings(), station)
    try:
        with get_db().write() as session:
            order = order_by_number(session, number)
            result = close_parcel(
                session,
                order.id,
                context,
                carton=body["carton"],
                weight_g=body["weight_g"],
                split=body["split"],
                station=station,
                user_id=_user_id(),
            )
    except PackRefusal as refusal:
        return _refused(refusal)
    if result.print_job_ids and result.printer:
        get_spooler(current_app).wake(result.printer)
    data = _view(number, station or None)
    if not result.order_packed:
        reason, params = "parcel_closed", {"number": result.parcel_number}
    elif result.printer:
        reason, params = "order_packed", {"order": number, "printer": result.printer}
    else:
        reason, params = "order_packed_no_printer", {"order": number}
    data["answer"] = {"reason": reason, "message": message(reason, params)}
    data["close"] = {
        "parcel_id": result.parcel_id,
        "order_packed": result.order_packed,
        "print_job_ids": list(result.print_job_ids),
    }
    return data


# --- print jobs ----------------------------------------------------------------------------


class JobListArgs(PageArgs):
    """Filters of the print job list."""

    printer = Text(validate=validate.Length(max=40))
    order = Text(validate=validate.Length(max=40), metadata={"description": "Order number"})


class ReprintSchema(Schema):
    """Where to reprint (default: the same printer)."""

    printer = Text(validate=validate.Length(min=1, max=40))


@jobs_blp.route("")
@permit(jobs_blp, *READERS)
@jobs_blp.arguments(JobListArgs, location="query")
@jobs_blp.response(200)
def list_jobs(args: dict[str, Any]) -> dict[str, Any]:
    """The newest print jobs, of one printer or one order."""
    with get_db().read() as session:
        order_id = None
        if args.get("order"):
            order_id = order_by_number(session, args["order"]).id
        found = print_jobs.jobs(session, printer=args.get("printer"), order_id=order_id, limit=100)
        return {"items": [print_jobs.job_view(job) for job in found]}


def _job(job_id: int) -> PrintJob:
    with get_db().read() as session:
        job = session.get(PrintJob, job_id)
        if job is None:
            raise NotFound(f"print job {job_id} does not exist", job_id=job_id)
        return job


@jobs_blp.route("/<int:job_id>")
@permit(jobs_blp, *READERS)
@jobs_blp.alt_response(404, response="NOT_FOUND")
@jobs_blp.response(200)
def get_job(job_id: int) -> dict[str, Any]:
    """One print job."""
    return print_jobs.job_view(_job(job_id))


@jobs_blp.route("/<int:job_id>/preview.pdf")
@permit(jobs_blp, *READERS)
@jobs_blp.alt_response(404, response="NOT_FOUND")
@jobs_blp.alt_response(409, response="CONFLICT")
@jobs_blp.response(200, content_type="application/pdf", description="The labels as PDF pages")
def preview(job_id: int) -> Response:
    """The job's labels as PDF, drawn from the layout whose ZPL was sent (checked equal)."""
    drawings = print_jobs.job_drawings(_job(job_id))
    return Response(
        drawings_pdf(drawings),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="label-{job_id}.pdf"'},
    )


@jobs_blp.route("/<int:job_id>/reprint", methods=["POST"])
@permit(jobs_blp, *PACKERS)
@jobs_blp.alt_response(404, response="NOT_FOUND")
@optional_json(jobs_blp, 409)
@jobs_blp.arguments(ReprintSchema, required=False)
@jobs_blp.response(201)
def reprint(body: dict[str, Any], job_id: int) -> dict[str, Any]:
    """Print the job's labels again, as a new job with the same bytes."""
    with get_db().write() as session:
        job = print_jobs.reprint(
            session, job_id, printer=(body or {}).get("printer"), user_id=_user_id()
        )
        data = print_jobs.job_view(job)
    get_spooler(current_app).wake(data["printer"])
    return data


@jobs_blp.route("/<int:job_id>/void", methods=["POST"])
@permit(jobs_blp, *PACKERS)
@jobs_blp.alt_response(404, response="NOT_FOUND")
@optional_json(jobs_blp, 409)
@jobs_blp.arguments(NoFieldsSchema, required=False)
@jobs_blp.response(200)
def void(_body: dict[str, Any], job_id: int) -> dict[str, Any]:
    """Cancel a job that has not printed yet."""
    with get_db().write() as session:
        return print_jobs.job_view(print_jobs.void(session, job_id))


# --- parcels and shipments -------------------------------------------------------------------


class ParcelArgs(PageArgs):
    """Filters of the parcel list."""

    order = Text(required=True, validate=validate.Length(min=1, max=40))


class LoadSchema(Schema):
    """A parcel label scanned at a dock door."""

    scan = Text(required=True, validate=validate.Length(min=1, max=200))


class ShipmentArgs(PageArgs):
    """Filters of the shipment list."""

    status = fields.Enum(ShipmentStatus, by_value=True)
    dock = Text(validate=validate.Length(max=32), metadata={"description": "Dock door code"})


@ship_blp.route("/parcels")
@permit(ship_blp, *READERS)
@ship_blp.arguments(ParcelArgs, location="query")
@ship_blp.response(200)
def list_parcels(args: dict[str, Any]) -> dict[str, Any]:
    """An order's parcels: carton, weight, SSCC, tracking number, state, shipment."""
    with get_db().read() as session:
        order = order_by_number(session, args["order"])
        query = select(Parcel).where(Parcel.order_id == order.id).order_by(Parcel.number)
        total = count(session, query)
        parcels = session.scalars(limit_page(query, args)).all()
        return {
            **page_info(args, total),
            "order": order.number,
            "status": order.status.value,
            "items": [shipping.parcel_view(p) for p in parcels],
        }


@ship_blp.route("/docks/<dock>/load", methods=["POST"])
@permit(ship_blp, *PACKERS)
@ship_blp.alt_response(404, response="NOT_FOUND")
@reads_json(ship_blp, 409)
@ship_blp.arguments(LoadSchema)
@ship_blp.response(200)
def load(body: dict[str, Any], dock: str) -> Any:
    """Confirm one parcel onto the truck at ``dock`` by scanning its label (SSCC or tracking)."""
    try:
        with get_db().write() as session:
            result = shipping.load_parcel(session, dock, body["scan"], user_id=_user_id())
    except PackRefusal as refusal:
        return _refused(refusal)
    return result


@ship_blp.route("/shipments")
@permit(ship_blp, *READERS)
@ship_blp.arguments(ShipmentArgs, location="query")
@ship_blp.response(200)
def list_shipments(args: dict[str, Any]) -> dict[str, Any]:
    """Shipments, newest first, with their parcels, orders and tracking numbers."""
    with get_db().read() as session:
        query = select(Shipment).order_by(Shipment.id.desc())
        if args.get("status"):
            query = query.where(Shipment.status == args["status"])
        if args.get("dock"):
            query = query.where(Shipment.dock == args["dock"])
        total = count(session, query)
        found = session.scalars(limit_page(query, args))
        return {
            **page_info(args, total),
            "items": [shipping.shipment_view(session, s) for s in found],
        }


@ship_blp.route("/shipments/<int:shipment_id>/ship", methods=["POST"])
@permit(ship_blp, *PACKERS)
@ship_blp.alt_response(404, response="NOT_FOUND")
@optional_json(ship_blp, 409)
@ship_blp.arguments(NoFieldsSchema, required=False)
@ship_blp.response(200)
def ship(_body: dict[str, Any], shipment_id: int) -> Any:
    """The truck leaves: every loaded parcel and its order is shipped."""
    try:
        with get_db().write() as session:
            shipping.ship(session, shipment_id, user_id=_user_id())
            shipment = session.get_one(Shipment, shipment_id)
            return shipping.shipment_view(session, shipment)
    except PackRefusal as refusal:
        return _refused(refusal)
