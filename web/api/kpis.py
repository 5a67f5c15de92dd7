"""Floor KPIs for a shift or a date range, as JSON or CSV (definitions in wms/kpis.py)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from flask import Response, request
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from web.api.common import READERS, Instant, api_blueprint
from web.api.flow import permit
from web.extensions import get_db
from wms.kpis import MAX_RANGE, csv_rows, floor_kpis

blp = api_blueprint(
    "KPIs",
    __name__,
    "/api/v1",
    "Picks, lines and units per hour per picker, zone and hour; wrong-scan and short-pick "
    "rates; order cycle times. Counted from the event log for any range, as JSON or CSV.",
)
DEFAULT_RANGE = dt.timedelta(hours=8)


class KpiArgs(Schema):
    """The range and the form of the answer."""

    start = Instant(
        data_key="from",
        load_default=None,
        metadata={"description": "Start (inclusive), ISO 8601; default: 8 hours before 'to'"},
    )
    end = Instant(
        data_key="to",
        load_default=None,
        metadata={"description": "End (exclusive), ISO 8601; default: now"},
    )
    bucket_minutes = fields.Integer(
        load_default=60,
        validate=validate.Range(min=1, max=1440),
        metadata={"description": "Length of the buckets of the hourly series, in minutes"},
    )
    format = fields.String(
        load_default=None,
        validate=validate.OneOf(["json", "csv"]),
        metadata={"description": "csv for a CSV file (or send 'Accept: text/csv')"},
    )

    @validates_schema
    def _range(self, data: dict[str, Any], **_kwargs: Any) -> None:
        end = data.get("end") or dt.datetime.now(dt.UTC)
        start = data.get("start") or end - DEFAULT_RANGE
        if end <= start:
            raise ValidationError("Must be after 'from'.", "to")
        if end - start > MAX_RANGE:
            raise ValidationError("The range may cover at most 366 days.", "to")


class RateSchema(Schema):
    """Counts and rates per hour of the range."""

    picks = fields.Integer()
    lines = fields.Integer()
    units = fields.Integer()
    picks_per_hour = fields.Float()
    lines_per_hour = fields.Float()


class PickerSchema(Schema):
    """One picker's figures."""

    username = fields.String()
    display_name = fields.String()
    rate = fields.Nested(RateSchema)
    wrong_scans = fields.Integer()
    short_picks = fields.Integer()


class ZoneSchema(Schema):
    """One zone's figures."""

    code = fields.String()
    name = fields.String()
    rate = fields.Nested(RateSchema)


class BucketSchema(Schema):
    """One hour (bucket) of the series."""

    start = fields.String()
    picks = fields.Integer()
    lines = fields.Integer()
    units = fields.Integer()


class CycleSchema(Schema):
    """Cycle times in minutes."""

    orders = fields.Integer()
    mean_minutes = fields.Float(allow_none=True)
    median_minutes = fields.Float(allow_none=True)
    p90_minutes = fields.Float(allow_none=True)


class KpiSchema(Schema):
    """Every KPI of the range."""

    start = fields.String()
    end = fields.String()
    hours = fields.Float()
    total = fields.Nested(RateSchema)
    wrong_scans = fields.Integer()
    wrong_scans_per_100_picks = fields.Float(allow_none=True)
    tasks_closed = fields.Integer()
    short_picks = fields.Integer()
    short_pick_rate_percent = fields.Float(allow_none=True)
    release_to_packed = fields.Nested(CycleSchema)
    release_to_shipped = fields.Nested(CycleSchema)
    by_picker = fields.List(fields.Nested(PickerSchema))
    by_zone = fields.List(fields.Nested(ZoneSchema))
    by_hour = fields.List(fields.Nested(BucketSchema))


@blp.route("/kpis", methods=["GET"])
@permit(blp, *READERS)
@blp.arguments(KpiArgs, location="query")
@blp.response(200, KpiSchema)
def kpis(args: dict[str, Any]) -> Any:
    """The floor KPIs of a range (default: the last 8 hours), as JSON or CSV.

    CSV (``format=csv`` or ``Accept: text/csv``) has the columns section, key, name, picks,
    lines, units, per_hour, value: the totals, the rates, the cycle times, then one row per
    picker, zone and hour.
    """
    end = args["end"] or dt.datetime.now(dt.UTC)
    start = args["start"] or end - DEFAULT_RANGE
    with get_db().read() as session:
        figures = floor_kpis(session, start, end, bucket_minutes=args["bucket_minutes"])
    wants_csv = args["format"] == "csv" or (
        args["format"] is None
        and request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv"
    )
    if not wants_csv:
        return figures.as_dict()
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(csv_rows(figures))
    name = f"kpis-{start:%Y%m%dT%H%M}-{end:%Y%m%dT%H%M}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
