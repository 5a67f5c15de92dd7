"""Floor KPIs for a time range, counted from the event log, never from running counters.

Definitions (docs/dashboard.md shows them with examples):

* a **pick** is one confirmed pick into a tote: a ``pick`` row of the inventory ledger
  (``movement``), with the picker, the order line and the units it moved; a short pick that
  still found some units is a pick too. Its zone is the zone of the location it came from.
* **lines** are the distinct order lines those picks served; **units** the units they moved.
* **per hour** figures divide by the hours of the range (a shift of 8 hours: picks / 8);
  the hourly series counts what happened in each clock hour (or each ``bucket_minutes``).
* a **wrong scan** is a refused handheld scan whose reason is a wrong location, item, lot,
  tote or an expired unit (``scan_event``); the rate is per 100 picks.
* a **short pick** is a pick task closed as short in the range; the rate is the share of
  pick tasks closed in the range (done or short), in percent.
* **cycle time** runs from an order's first ``released`` step to its ``packed`` (or
  ``shipped``) step in its history (``order_event``), for orders packed (shipped) in the range.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wms.db.schema import Location, Movement, OrderEvent, PickTask, ScanEvent, User, Zone
from wms.errors import InvalidInput
from wms.model import MovementKind, OrderStatus, ScanOutcome, TaskStatus

# Refusals that mean the picker scanned the wrong thing (not "no cart" or "press confirm").
WRONG_SCAN_REASONS = (
    "wrong_location",
    "wrong_item",
    "wrong_lot",
    "wrong_tote",
    "expired",
    "too_many",
    "not_a_tote",
)
MAX_RANGE = dt.timedelta(days=366)


@dataclass(frozen=True, slots=True)
class Rate:
    """Picks, lines and units in the range, and per hour of the range."""

    picks: int = 0
    lines: int = 0
    units: int = 0
    picks_per_hour: float = 0.0
    lines_per_hour: float = 0.0


@dataclass(frozen=True, slots=True)
class PickerFigures:
    """One picker's work in the range."""

    username: str
    display_name: str
    rate: Rate
    wrong_scans: int
    short_picks: int


@dataclass(frozen=True, slots=True)
class ZoneFigures:
    """One zone's throughput in the range."""

    code: str
    name: str
    rate: Rate


@dataclass(frozen=True, slots=True)
class BucketFigures:
    """What happened in one hour (or bucket) of the range."""

    start: dt.datetime
    picks: int
    lines: int
    units: int


@dataclass(frozen=True, slots=True)
class CycleTime:
    """Order cycle times in minutes: how many orders, mean, median and 90th percentile."""

    orders: int = 0
    mean_minutes: float | None = None
    median_minutes: float | None = None
    p90_minutes: float | None = None


@dataclass(frozen=True, slots=True)
class FloorKpis:
    """Every KPI of one range."""

    start: dt.datetime
    end: dt.datetime
    hours: float
    total: Rate
    wrong_scans: int
    wrong_scans_per_100_picks: float | None
    tasks_closed: int
    short_picks: int
    short_pick_rate_percent: float | None
    release_to_packed: CycleTime
    release_to_shipped: CycleTime
    by_picker: list[PickerFigures] = field(default_factory=list)
    by_zone: list[ZoneFigures] = field(default_factory=list)
    by_hour: list[BucketFigures] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: instants in ISO 8601 UTC."""
        data = asdict(self)
        data["start"] = self.start.isoformat()
        data["end"] = self.end.isoformat()
        for bucket in data["by_hour"]:
            bucket["start"] = bucket["start"].isoformat()
        return data


def utc(moment: dt.datetime) -> dt.datetime:
    """The same instant, aware, in UTC (SQLite hands back naive UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _round(value: float) -> float:
    return round(value, 2)


def _rate(picks: int, lines: int, units: int, hours: float) -> Rate:
    return Rate(picks, lines, units, _round(picks / hours), _round(lines / hours))


def _cycle(minutes: Sequence[float]) -> CycleTime:
    if not minutes:
        return CycleTime()
    ordered = sorted(minutes)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2.0
    p90 = ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]  # nearest rank
    return CycleTime(len(ordered), _round(sum(ordered) / len(ordered)), _round(median), _round(p90))


def _floor_to_bucket(moment: dt.datetime, origin: dt.datetime, minutes: int) -> dt.datetime:
    step = dt.timedelta(minutes=minutes)
    return origin + ((moment - origin) // step) * step


def check_range(start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Both ends in UTC; refuse an empty, reversed or over-long range."""
    start, end = utc(start), utc(end)
    if end <= start:
        raise InvalidInput("the range must end after it starts", start=start.isoformat())
    if end - start > MAX_RANGE:
        raise InvalidInput("a range may cover at most 366 days", start=start.isoformat())
    return start, end


def floor_kpis(
    session: Session, start: dt.datetime, end: dt.datetime, *, bucket_minutes: int = 60
) -> FloorKpis:
    """Every KPI for picks, scans, tasks and orders in ``[start, end)``."""
    start, end = check_range(start, end)
    if not 1 <= bucket_minutes <= 1440:
        raise InvalidInput("buckets are 1 to 1440 minutes long", bucket_minutes=bucket_minutes)
    hours = (end - start).total_seconds() / 3600.0

    picks = session.execute(
        select(
            Movement.user_id,
            Location.zone_id,
            Movement.order_line_id,
            Movement.quantity,
            Movement.created_at,
        )
        .join(Location, Location.id == Movement.from_location_id)
        .where(
            Movement.kind == MovementKind.PICK,
            Movement.created_at >= start,
            Movement.created_at < end,
        )
    ).all()
    wrong = dict(
        session.execute(
            select(ScanEvent.user_id, func.count())
            .where(
                ScanEvent.outcome == ScanOutcome.REFUSED,
                ScanEvent.reason.in_(WRONG_SCAN_REASONS),
                ScanEvent.received_at >= start,
                ScanEvent.received_at < end,
            )
            .group_by(ScanEvent.user_id)
        ).all()
    )
    closed = session.execute(
        select(PickTask.done_by, PickTask.status, func.count())
        .where(
            PickTask.status.in_((TaskStatus.DONE, TaskStatus.SHORT)),
            PickTask.done_at >= start,
            PickTask.done_at < end,
        )
        .group_by(PickTask.done_by, PickTask.status)
    ).all()

    by_user: dict[int | None, list[Any]] = defaultdict(list)
    by_zone: dict[int, list[Any]] = defaultdict(list)
    by_bucket: dict[dt.datetime, list[Any]] = defaultdict(list)
    for row in picks:
        by_user[row.user_id].append(row)
        by_zone[row.zone_id].append(row)
        by_bucket[_floor_to_bucket(utc(row.created_at), start, bucket_minutes)].append(row)

    def counts(rows: Iterable[Any]) -> tuple[int, int, int]:
        listed = list(rows)
        return len(listed), len({r.order_line_id for r in listed}), sum(r.quantity for r in listed)

    shorts_by_user: dict[int | None, int] = defaultdict(int)
    tasks_closed = short_picks = 0
    for user_id, status, number in closed:
        tasks_closed += number
        if status is TaskStatus.SHORT:
            short_picks += number
            shorts_by_user[user_id] += number

    user_ids = {u for u in (*by_user, *wrong, *shorts_by_user) if u is not None}
    users = (
        {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
        if user_ids
        else {}
    )
    pickers = [
        PickerFigures(
            users[user_id].username,
            users[user_id].display_name,
            _rate(*counts(by_user.get(user_id, [])), hours),
            int(wrong.get(user_id, 0)),
            shorts_by_user.get(user_id, 0),
        )
        for user_id in user_ids
    ]
    pickers.sort(key=lambda p: (-p.rate.picks, p.username))

    zones = [
        ZoneFigures(zone.code, zone.name, _rate(*counts(by_zone[zone.id]), hours))
        for zone in session.scalars(select(Zone).where(Zone.id.in_(list(by_zone))))
    ]
    zones.sort(key=lambda z: z.code)

    buckets = []
    moment, step = start, dt.timedelta(minutes=bucket_minutes)
    while moment < end:
        buckets.append(BucketFigures(moment, *counts(by_bucket.get(moment, []))))
        moment += step

    total_picks, total_lines, total_units = counts(picks)
    wrong_total = int(sum(wrong.values()))
    return FloorKpis(
        start=start,
        end=end,
        hours=_round(hours),
        total=_rate(total_picks, total_lines, total_units, hours),
        wrong_scans=wrong_total,
        wrong_scans_per_100_picks=_round(100.0 * wrong_total / total_picks)
        if total_picks
        else None,
        tasks_closed=tasks_closed,
        short_picks=short_picks,
        short_pick_rate_percent=_round(100.0 * short_picks / tasks_closed)
        if tasks_closed
        else None,
        release_to_packed=_cycle(_cycle_minutes(session, OrderStatus.PACKED, start, end)),
        release_to_shipped=_cycle(_cycle_minutes(session, OrderStatus.SHIPPED, start, end)),
        by_picker=pickers,
        by_zone=zones,
        by_hour=buckets,
    )


def _cycle_minutes(
    session: Session, reached: OrderStatus, start: dt.datetime, end: dt.datetime
) -> list[float]:
    """Minutes from first release to first ``reached`` step, for orders reaching it in range."""
    done = (
        select(OrderEvent.order_id, func.min(OrderEvent.at).label("at"))
        .where(OrderEvent.status == reached)
        .group_by(OrderEvent.order_id)
        .subquery()
    )
    released = (
        select(OrderEvent.order_id, func.min(OrderEvent.at).label("at"))
        .where(OrderEvent.status == OrderStatus.RELEASED)
        .group_by(OrderEvent.order_id)
        .subquery()
    )
    rows = session.execute(
        select(released.c.at, done.c.at)
        .join(done, done.c.order_id == released.c.order_id)
        .where(done.c.at >= start, done.c.at < end)
    ).all()
    return [
        (utc(finished) - utc(begun)).total_seconds() / 60.0
        for begun, finished in rows
        if utc(finished) >= utc(begun)
    ]


CSV_COLUMNS = ("section", "key", "name", "picks", "lines", "units", "per_hour", "value")


def csv_rows(kpis: FloorKpis) -> list[list[str]]:
    """The KPIs as CSV rows (header first): totals, then per picker, zone and hour."""

    def num(value: float | int | None) -> str:
        return "" if value is None else str(value)

    rows: list[list[str]] = [list(CSV_COLUMNS)]
    total = kpis.total
    rows.append(["range", kpis.start.isoformat(), kpis.end.isoformat(), "", "", "", "", ""])
    rows.append(
        [
            "total",
            "",
            "",
            num(total.picks),
            num(total.lines),
            num(total.units),
            num(total.picks_per_hour),
            "",
        ]
    )
    for key, value in (
        ("wrong_scans", kpis.wrong_scans),
        ("wrong_scans_per_100_picks", kpis.wrong_scans_per_100_picks),
        ("tasks_closed", kpis.tasks_closed),
        ("short_picks", kpis.short_picks),
        ("short_pick_rate_percent", kpis.short_pick_rate_percent),
    ):
        rows.append(["rate", key, "", "", "", "", "", num(value)])
    for name, cycle in (
        ("release_to_packed", kpis.release_to_packed),
        ("release_to_shipped", kpis.release_to_shipped),
    ):
        for key in ("orders", "mean_minutes", "median_minutes", "p90_minutes"):
            rows.append(
                ["cycle_time", f"{name}.{key}", "", "", "", "", "", num(getattr(cycle, key))]
            )
    for picker in kpis.by_picker:
        r = picker.rate
        rows.append(
            [
                "picker",
                picker.username,
                picker.display_name,
                num(r.picks),
                num(r.lines),
                num(r.units),
                num(r.picks_per_hour),
                f"wrong={picker.wrong_scans};short={picker.short_picks}",
            ]
        )
    for zone in kpis.by_zone:
        r = zone.rate
        rows.append(
            [
                "zone",
                zone.code,
                zone.name,
                num(r.picks),
                num(r.lines),
                num(r.units),
                num(r.picks_per_hour),
                "",
            ]
        )
    for bucket in kpis.by_hour:
        rows.append(
            [
                "hour",
                bucket.start.isoformat(),
                "",
                num(bucket.picks),
                num(bucket.lines),
                num(bucket.units),
                num(bucket.picks),
                "",
            ]
        )
    return rows
