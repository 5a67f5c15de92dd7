"""Release: turn allocated orders into routed pick batches and tasks, by wave or continuously."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from picking import batching
from picking.layout import Aisle, Direction, Layout, PickPoint
from picking.routing import route
from wms.db.schema import (
    BatchOrder,
    Location,
    Order,
    OrderEvent,
    OrderLine,
    PickBatch,
    PickTask,
    ReplenishmentTask,
    Reservation,
    Stock,
    Wave,
    Zone,
)
from wms.errors import Conflict, InvalidInput, NotFound
from wms.model import (
    BatchKind,
    BatchStatus,
    HandlingUnit,
    LocationType,
    OrderKind,
    OrderStatus,
    ReservationStatus,
    TaskKind,
    TaskStatus,
    WaveStatus,
    ZoneKind,
)
from wms.orders import set_status

RELEASABLE = (OrderStatus.ALLOCATED, OrderStatus.PARTLY_ALLOCATED)
FAR_FUTURE = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
HALF_BAY_M = 0.6  # aisle ends lie half a bay beyond the last pick position
EXPEDITE_PRIORITY = 9


@dataclass(frozen=True)
class ReleaseOptions:
    """How to batch: cart size and one-way aisles (from config.yaml's picking section)."""

    totes_per_cart: int = 8
    tote_max_units: int | None = 20
    one_way_aisles: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ReleaseResult:
    """What a release made."""

    orders: int
    batches: tuple[str, ...]
    tasks: int
    replenishments: int
    route_length_m: float


@dataclass(frozen=True)
class ZoneLayout:
    """A zone's aisles as a routing layout, and where each of its locations stands in it."""

    layout: Layout
    points: Mapping[int, PickPoint]


def zone_layout(
    session: Session, zone_id: int, one_way: Mapping[str, str] | None = None
) -> ZoneLayout:
    """Build the routing layout of a zone from its locations' aisles and coordinates."""
    rows = session.execute(
        select(Location.id, Location.aisle, Location.x, Location.y).where(
            Location.zone_id == zone_id, Location.active.is_(True)
        )
    ).all()
    if not rows:
        raise InvalidInput(f"zone {zone_id} has no locations to route through")
    by_aisle: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for location_id, aisle, x, y in rows:
        by_aisle[aisle].append((location_id, x, y))
    ordered = sorted(by_aisle, key=lambda a: sum(r[1] for r in by_aisle[a]) / len(by_aisle[a]))
    aisles = []
    points: dict[int, PickPoint] = {}
    one_way = one_way or {}
    last_x = None
    for index, code in enumerate(ordered):
        members = by_aisle[code]
        x = sum(r[1] for r in members) / len(members)
        if last_x is not None and x <= last_x:
            x = last_x + 0.01  # two aisles at one x: keep the layout well-formed
        last_x = x
        length = max(max(r[2] for r in members) + HALF_BAY_M, 1.0)
        aisles.append(Aisle(x, length, Direction(one_way.get(code, "both"))))
        for location_id, _x, y in members:
            points[location_id] = PickPoint(index, min(max(y, 0.0), length), str(location_id))
    return ZoneLayout(Layout(tuple(aisles)), points)


def plan_waves(session: Session, *, now: dt.datetime | None = None) -> list[Wave]:
    """Group allocated orders not yet in a wave by cut-off, carrier and priority."""
    now = now or dt.datetime.now(dt.UTC)
    # Locked, and skipped when locked: two planners at once each take a share of the orders
    # (on PostgreSQL; SQLite runs one writer at a time) instead of both moving the same ones.
    orders = session.scalars(
        select(Order)
        .where(Order.status.in_(RELEASABLE), Order.wave_id.is_(None), Order.held.is_(False))
        .order_by(Order.id)
        .with_for_update(skip_locked=True)
    ).all()
    groups: dict[tuple[dt.datetime | None, str, int], list[Order]] = defaultdict(list)
    for order in orders:
        groups[(order.cut_off, order.carrier, order.priority)].append(order)
    waves = []
    stamp = now.strftime("%Y%m%d-%H%M%S")
    taken = set(session.scalars(select(Wave.code).where(Wave.code.like(f"W{stamp}-%"))))
    for index, key in enumerate(
        sorted(groups, key=lambda k: (_aware(k[0]) or FAR_FUTURE, -k[2], k[1])), start=1
    ):
        cut_off, carrier, priority = key
        wave = _new_wave(session, stamp, index, taken, cut_off, carrier, priority, now)
        for order in groups[key]:
            order.wave_id = wave.id
        waves.append(wave)
    return waves


def _new_wave(
    session: Session,
    stamp: str,
    index: int,
    taken: set[str],
    cut_off: dt.datetime | None,
    carrier: str,
    priority: int,
    now: dt.datetime,
) -> Wave:
    """A wave with a readable code not yet used, also by a planner running at the same time."""
    while True:
        code = f"W{stamp}-{index:03d}"
        index += 1000
        if code in taken:
            continue
        taken.add(code)
        wave = Wave(code=code, cut_off=cut_off, carrier=carrier, priority=priority, created_at=now)
        try:
            with session.begin_nested():
                session.add(wave)
                session.flush()
        except IntegrityError:
            continue  # a concurrent planner committed this code first: take the next
        return wave


def release_wave(
    session: Session,
    code: str,
    *,
    user_id: int | None = None,
    options: ReleaseOptions | None = None,
    now: dt.datetime | None = None,
) -> ReleaseResult:
    """Release a planned (or held) wave: its orders become routed batches and pick tasks."""
    wave = session.scalar(select(Wave).where(Wave.code == code))
    if wave is None:
        raise NotFound(f"wave {code!r} does not exist", wave=code)
    if wave.status not in (WaveStatus.PLANNED, WaveStatus.HELD):
        raise Conflict(f"wave {code} is already {wave.status.value}", wave=code)
    now = now or dt.datetime.now(dt.UTC)
    if wave.status is WaveStatus.HELD:
        for order in session.scalars(
            select(Order).where(Order.wave_id == wave.id, Order.held.is_(True))
        ):
            order.held = False
            set_status(session, order, order.status, "hold lifted with its wave")
        wave.status = WaveStatus.PLANNED
    orders = session.scalars(
        select(Order).where(
            Order.wave_id == wave.id, Order.status.in_(RELEASABLE), Order.held.is_(False)
        )
    ).all()
    result = release_orders(session, orders, wave=wave, options=options, now=now)
    wave.status = WaveStatus.RELEASED
    wave.released_at = now
    wave.released_by = user_id
    return result


def release_continuous(
    session: Session,
    *,
    zone_wip_limit: int,
    pack_station_wip_limit: int,
    options: ReleaseOptions | None = None,
    now: dt.datetime | None = None,
    max_orders: int = 500,
) -> ReleaseResult:
    """Waveless release: the most urgent orders, while zones and pack stations have room.

    A zone with too many open pick tasks, or pack stations with too many orders waiting,
    slows the release instead of letting totes pile up.
    """
    now = now or dt.datetime.now(dt.UTC)
    station_load = _pack_station_load(session, pack_station_wip_limit)
    station_room = sum(max(0, (limit or 0) - load) for _s, load, limit in station_load)
    if station_load and station_room <= 0:
        return ReleaseResult(0, (), 0, 0, 0.0)
    zone_load = _zone_load(session)
    zone_limit = {zone_id: limit or zone_wip_limit for zone_id, limit, _open in zone_load}
    zone_room = {zone_id: zone_limit[zone_id] - open_tasks for zone_id, _l, open_tasks in zone_load}

    def fits(zone_id: int, tasks: int) -> bool:
        room = zone_room.get(zone_id, zone_wip_limit)
        # An order bigger than a zone's whole limit would wait forever: it goes alone, once
        # the zone is idle, and the zone takes nothing more until it has drained.
        return room >= tasks or room == zone_limit.get(zone_id, zone_wip_limit)

    candidates = session.scalars(
        select(Order)
        .where(Order.status.in_(RELEASABLE), Order.held.is_(False), Order.wave_id.is_(None))
        .order_by(Order.priority.desc(), Order.cut_off.is_(None), Order.cut_off, Order.id)
        .limit(max_orders * 4)
        .with_for_update(skip_locked=True)  # a concurrent release takes other orders
    ).all()
    chosen: list[Order] = []
    budget = station_room if station_load else max_orders
    faces: dict[int, Location | None] = {}
    for order in candidates:
        if len(chosen) >= min(max_orders, budget):
            break
        needs = _tasks_per_zone(session, order, faces)
        if all(fits(zone_id, n) for zone_id, n in needs.items()):
            for zone_id, n in needs.items():
                zone_room[zone_id] = zone_room.get(zone_id, zone_wip_limit) - n
            chosen.append(order)
    if not chosen:
        return ReleaseResult(0, (), 0, 0, 0.0)
    wave = Wave(
        # Random tail: two continuous releases at the same instant still get distinct codes.
        code=f"C{now.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}",
        status=WaveStatus.PLANNED,
        created_at=now,
        priority=max(o.priority for o in chosen),
    )
    session.add(wave)
    session.flush()
    for order in chosen:
        order.wave_id = wave.id
    result = release_orders(session, chosen, wave=wave, options=options, now=now)
    wave.status = WaveStatus.RELEASED
    wave.released_at = now
    return result


def _zone_load(session: Session) -> list[tuple[int, int | None, int]]:
    open_tasks = dict(
        session.execute(
            select(PickTask.zone_id, func.count())
            .where(PickTask.status == TaskStatus.OPEN)
            .group_by(PickTask.zone_id)
        ).all()
    )
    return [
        (zone_id, limit, int(open_tasks.get(zone_id, 0)))
        for zone_id, limit in session.execute(select(Zone.id, Zone.wip_limit))
    ]


def _pack_station_load(
    session: Session, default_limit: int | None = None
) -> list[tuple[int, int, int | None]]:
    """Each pack station, the released orders waiting for it, and its own WIP limit."""
    stations = session.execute(
        select(Location.id, Location.wip_limit).where(Location.type == LocationType.PACK_STATION)
    ).all()
    waiting = dict(
        session.execute(
            select(Order.pack_station_id, func.count())
            .where(
                Order.status.in_((OrderStatus.RELEASED, OrderStatus.PICKING, OrderStatus.PICKED)),
                Order.pack_station_id.is_not(None),
            )
            .group_by(Order.pack_station_id)
        ).all()
    )
    return [
        (station, int(waiting.get(station, 0)), limit or default_limit)
        for station, limit in stations
    ]


def _tasks_per_zone(
    session: Session, order: Order, faces: dict[int, Location | None]
) -> dict[int, int]:
    """Pick tasks the order will add per zone (eaches in reserve are picked at the face)."""
    line_ids = [line.id for line in order.lines]
    rows = session.execute(
        select(Location.zone_id, Location.type, Reservation.unit, Stock.item_id)
        .select_from(Reservation)
        .join(Stock, Reservation.stock_id == Stock.id)
        .join(Location, Stock.location_id == Location.id)
        .where(
            Reservation.order_line_id.in_(line_ids),
            Reservation.status == ReservationStatus.OPEN,
        )
    ).all()
    needs: dict[int, int] = defaultdict(int)
    for zone_id, location_type, unit, item_id in rows:
        if location_type is LocationType.RESERVE and unit is HandlingUnit.EACH:
            if item_id not in faces:
                faces[item_id] = _pick_face_for(session, item_id)
            face = faces[item_id]
            if face is not None:
                zone_id = face.zone_id
        needs[zone_id] += 1
    return dict(needs)


@dataclass
class _Pick:
    """An open reservation on its way to becoming a pick task (plain values: fast to load)."""

    reservation_id: int
    quantity: int
    unit: HandlingUnit
    order: Order
    line_id: int
    item_id: int
    location_id: int
    zone_id: int
    location_type: LocationType
    lot: str
    waits_for: ReplenishmentTask | None = None


def _open_picks(session: Session, orders: Sequence[Order]) -> list[_Pick]:
    """Open reservations of the orders that have no pick task yet, with where they are."""
    by_id = {order.id: order for order in orders}
    picks: list[_Pick] = []
    already: set[int] = set()
    ids = list(by_id)
    for chunk in (ids[i : i + 2000] for i in range(0, len(ids), 2000)):
        for row in session.execute(
            select(
                Reservation.id,
                Reservation.quantity,
                Reservation.unit,
                OrderLine.order_id,
                OrderLine.id,
                OrderLine.item_id,
                Location.id,
                Location.zone_id,
                Location.type,
                Stock.lot,
            )
            .join(Stock, Reservation.stock_id == Stock.id)
            .join(Location, Stock.location_id == Location.id)
            .join(OrderLine, Reservation.order_line_id == OrderLine.id)
            .where(OrderLine.order_id.in_(chunk), Reservation.status == ReservationStatus.OPEN)
        ):
            (rid, quantity, unit, order_id, line_id, item_id, loc_id, zone_id, loc_type, lot) = row
            picks.append(
                _Pick(
                    rid,
                    quantity,
                    unit,
                    by_id[order_id],
                    line_id,
                    item_id,
                    loc_id,
                    zone_id,
                    loc_type,
                    lot,
                )
            )
        already.update(
            session.scalars(
                select(PickTask.reservation_id).where(
                    PickTask.order_id.in_(chunk), PickTask.status != TaskStatus.CANCELLED
                )
            )
        )
    picks.sort(key=lambda pick: pick.reservation_id)
    return [pick for pick in picks if pick.reservation_id not in already]


def _pick_face_for(session: Session, item_id: int) -> Location | None:
    """The pick face that holds this item (the one with most stock), if it has one."""
    return session.scalar(
        select(Location)
        .join(Stock, Stock.location_id == Location.id)
        .where(
            Stock.item_id == item_id,
            Location.type == LocationType.PICK_FACE,
            Location.active.is_(True),
        )
        .order_by(Stock.on_hand.desc(), Location.walk_sequence)
        .limit(1)
    )


def plan_replenishments(session: Session, picks: Iterable[_Pick], now: dt.datetime) -> int:
    """Eaches reserved in reserve are first brought to the item's pick face; picks wait."""
    made: dict[tuple[int, int, str], ReplenishmentTask] = {}
    faces: dict[int, Location | None] = {}
    for pick in picks:
        if pick.location_type is not LocationType.RESERVE or pick.unit is not HandlingUnit.EACH:
            continue
        if pick.item_id not in faces:
            faces[pick.item_id] = _pick_face_for(session, pick.item_id)
        face = faces[pick.item_id]
        if face is None:
            continue  # no pick face for this item: pick straight from reserve
        key = (pick.location_id, face.id, pick.lot)
        task = made.get(key)
        if task is None:
            task = ReplenishmentTask(
                status=TaskStatus.OPEN,
                item_id=pick.item_id,
                lot=pick.lot,
                from_location_id=pick.location_id,
                to_location_id=face.id,
                quantity=0,
                carries_reserved=0,
                reason="pick_waiting",
                priority=EXPEDITE_PRIORITY,
                created_at=now,
            )
            session.add(task)
            made[key] = task
        task.quantity += pick.quantity
        task.carries_reserved += pick.quantity
        pick.waits_for = task
        pick.location_id, pick.zone_id, pick.location_type = face.id, face.zone_id, face.type
    session.flush()
    return len(made)


def release_orders(
    session: Session,
    orders: Sequence[Order],
    *,
    wave: Wave | None = None,
    options: ReleaseOptions | None = None,
    now: dt.datetime | None = None,
) -> ReleaseResult:
    """Make routed batches and pick tasks for the open reservations of ``orders``."""
    options = options or ReleaseOptions()
    now = now or dt.datetime.now(dt.UTC)
    picks = _open_picks(session, orders)
    replenishments = plan_replenishments(session, picks, now)
    by_zone: dict[int, list[_Pick]] = defaultdict(list)
    for pick in picks:
        by_zone[pick.zone_id].append(pick)
    pending: list[tuple[int, Zone, TaskKind, _Trip]] = []
    sequence = 0
    for zone_id, zone_picks in sorted(by_zone.items()):
        zone = session.get_one(Zone, zone_id)
        geometry = zone_layout(session, zone_id, options.one_way_aisles.get(zone.code))
        task_kind = TaskKind.LIGHT if zone.kind is ZoneKind.PICK_TO_LIGHT else TaskKind.HANDHELD
        cluster = [p for p in zone_picks if p.order.kind is OrderKind.B2C]
        single = [p for p in zone_picks if p.order.kind is not OrderKind.B2C]
        trips: list[_Trip] = []
        if cluster and task_kind is TaskKind.HANDHELD:
            plan = _cluster_plan(geometry, cluster, options)
            trips.extend(plan.trips)
            single.extend(plan.oversize)
        elif cluster:
            single.extend(cluster)  # light zones: each order's tote travels on its own
        for order_picks in _by_order(single):
            trips.append(_order_trip(geometry, order_picks))
        for trip in trips:
            sequence += 1
            pending.append((sequence, zone, task_kind, trip))
    batch_codes, task_count, total_length = _store_batches(session, pending, wave, now)
    _mark_released(session, orders, wave.code if wave else "", now)
    session.flush()
    return ReleaseResult(
        len(orders), tuple(batch_codes), task_count, replenishments, round(total_length, 1)
    )


_Trip = tuple[BatchKind, list[tuple[_Pick, int, int, float]], float, str]


@dataclass
class _ClusterPlan:
    trips: list[_Trip]
    oversize: list[_Pick]


def _cluster_plan(
    geometry: ZoneLayout, picks: list[_Pick], options: ReleaseOptions
) -> _ClusterPlan:
    by_order: dict[int, list[_Pick]] = defaultdict(list)
    for pick in picks:
        by_order[pick.order.id].append(pick)
    refs = {str(p.reservation_id): p for p in picks}
    orders = [
        batching.Order(
            order_id=str(order_id),
            # batching ranks 0 as most urgent; orders rank higher priority first.
            priority=EXPEDITE_PRIORITY - order_picks[0].order.priority,
            cut_off=_aware(order_picks[0].order.cut_off) or FAR_FUTURE,
            lines=tuple(
                batching.OrderLine(
                    geometry.points[p.location_id],
                    p.quantity,
                    ref=str(p.reservation_id),
                )
                for p in order_picks
            ),
        )
        for order_id, order_picks in by_order.items()
    ]
    plan = batching.batch_orders(
        geometry.layout,
        orders,
        batching.Cart(totes=options.totes_per_cart, tote_units=options.tote_max_units),
    )
    trips: list[tuple[BatchKind, list[tuple[_Pick, int, int, float]], float, str]] = []
    for batch in plan.batches:
        ordered = [(refs[bp.ref], bp.sequence, bp.tote, 0.0) for bp in batch.picks]
        trips.append((BatchKind.CLUSTER, ordered, batch.route.distance, batch.route.method.value))
    oversize = [p for order_id in plan.oversize for p in by_order[int(order_id)]]
    return _ClusterPlan(trips, oversize)


def _by_order(picks: list[_Pick]) -> list[list[_Pick]]:
    grouped: dict[int, list[_Pick]] = defaultdict(list)
    for pick in picks:
        grouped[pick.order.id].append(pick)
    return list(grouped.values())


def _order_trip(
    geometry: ZoneLayout, picks: list[_Pick]
) -> tuple[BatchKind, list[tuple[_Pick, int, int, float]], float, str]:
    """One order's picks in one zone, routed: B2B cases and pallets, or an oversize B2C order."""
    points = [geometry.points[p.location_id] for p in picks]
    best = route(geometry.layout, points)
    by_location: dict[str, list[_Pick]] = defaultdict(list)
    for pick in picks:
        by_location[str(pick.location_id)].append(pick)
    ordered: list[tuple[_Pick, int, int, float]] = []
    seen: set[str] = set()
    for point in best.picks:
        if point.location_id in seen:
            continue
        seen.add(point.location_id)
        for pick in by_location[point.location_id]:
            ordered.append((pick, len(ordered) + 1, 1, 0.0))
    return BatchKind.ORDER, ordered, best.distance, best.method.value


def _store_batches(
    session: Session,
    pending: list[tuple[int, Zone, TaskKind, _Trip]],
    wave: Wave | None,
    now: dt.datetime,
) -> tuple[list[str], int, float]:
    """Write the batches, their orders' tote positions and their tasks, in bulk."""
    batch_rows: list[dict[str, object]] = []
    for _number, zone, _task_kind, (kind, ordered, length, method) in pending:
        orders = {pick.order.id: pick.order for pick, _s, _t, _d in ordered}
        batch_rows.append(
            {
                "code": f"new-{uuid.uuid4().hex}",
                "kind": kind,
                "status": BatchStatus.OPEN,
                "wave_id": wave.id if wave else None,
                "zone_id": zone.id,
                "totes": len({tote for _p, _s, tote, _d in ordered}),
                "route_length_m": round(length, 2),
                "route_method": method,
                "priority": max(o.priority for o in orders.values()),
                "cut_off": min((o.cut_off for o in orders.values() if o.cut_off), default=None),
                "created_at": now,
            }
        )
    if not batch_rows:
        return [], 0, 0.0
    # One multi-row INSERT ... RETURNING, ids in the order the rows were given. Codes come
    # from the ids, so two releases at once can never pick the same code.
    batch_ids = list(
        session.scalars(
            insert(PickBatch).returning(PickBatch.id, sort_by_parameter_order=True), batch_rows
        )
    )
    codes = [f"B{batch_id:06d}" for batch_id in batch_ids]
    session.execute(
        update(PickBatch),  # ORM bulk update by primary key
        [{"id": i, "code": c} for i, c in zip(batch_ids, codes, strict=True)],
    )
    tote_rows: list[dict[str, object]] = []
    task_rows: list[dict[str, object]] = []
    for batch_id, (_n, zone, task_kind, (_k, ordered, _l, _m)) in zip(
        batch_ids, pending, strict=True
    ):
        totes: dict[int, int] = {}
        for pick, _sequence, tote, _d in ordered:
            totes.setdefault(pick.order.id, tote)
        tote_rows.extend(
            {"batch_id": batch_id, "order_id": order_id, "tote_position": tote}
            for order_id, tote in totes.items()
        )
        task_rows.extend(
            {
                "batch_id": batch_id,
                "sequence": index,
                "kind": task_kind,
                "status": TaskStatus.OPEN,
                "order_id": pick.order.id,
                "order_line_id": pick.line_id,
                "reservation_id": pick.reservation_id,
                "location_id": pick.location_id,
                "zone_id": zone.id,
                "item_id": pick.item_id,
                "lot": pick.lot,
                "quantity": pick.quantity,
                "unit": pick.unit,
                "picked_quantity": 0,
                "location_confirmed": False,
                "scanned_quantity": 0,
                "tote_position": tote,
                "route_distance_m": 0.0,
                "waits_for_id": pick.waits_for.id if pick.waits_for else None,
                "created_at": now,
            }
            for index, (pick, _sequence, tote, _d) in enumerate(ordered, start=1)
        )
    if tote_rows:
        session.execute(insert(BatchOrder), tote_rows)
    if task_rows:
        session.execute(insert(PickTask), task_rows)
    length = sum(trip[2] for _n, _z, _k, trip in pending)
    return codes, len(task_rows), length


def _mark_released(
    session: Session, orders: Sequence[Order], detail: str, now: dt.datetime
) -> None:
    """Set released orders' status, history and pack station in a few bulk statements."""
    releasing = [order for order in orders if order.status in RELEASABLE]
    if not releasing:
        return
    stations = _pack_station_load(session)
    load = {station: n for station, n, _limit in stations}
    limits = {station: limit for station, _n, limit in stations}
    by_station: dict[int | None, list[int]] = defaultdict(list)
    for order in releasing:
        station = order.pack_station_id
        if station is None and load:
            # The station with the most room under its own limit, then the least loaded.
            station = min(load, key=lambda s: (load[s] - (limits[s] or 10**9), load[s], s))
            load[station] += 1
        by_station[station].append(order.id)
    for station, ids in by_station.items():
        for chunk in (ids[i : i + 2000] for i in range(0, len(ids), 2000)):
            session.execute(
                update(Order)
                .where(Order.id.in_(chunk))
                .values(status=OrderStatus.RELEASED, pack_station_id=station, updated_at=now)
                .execution_options(synchronize_session=False)
            )
    session.execute(
        insert(OrderEvent),
        [
            {"order_id": order.id, "status": OrderStatus.RELEASED, "detail": detail, "at": now}
            for order in releasing
        ],
    )
    station_of = {order_id: station for station, ids in by_station.items() for order_id in ids}
    for order in releasing:  # the loaded objects follow what the bulk update wrote
        set_committed_value(order, "status", OrderStatus.RELEASED)
        set_committed_value(order, "pack_station_id", station_of[order.id])
        set_committed_value(order, "updated_at", now)


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)  # SQLite hands back naive UTC


def hold_order(
    session: Session, order: Order, held: bool = True, *, keep_wave: bool = False
) -> None:
    """Hold an order back from release, or let it go again.

    A held order leaves its planned wave, unless the whole wave is held (``keep_wave``); an
    order let go out of a held wave leaves it, to be planned again.
    """
    if held and order.status not in (
        OrderStatus.RECEIVED,
        OrderStatus.ALLOCATED,
        OrderStatus.PARTLY_ALLOCATED,
        OrderStatus.BACKORDERED,
    ):
        raise Conflict(
            f"order {order.number} is already {order.status.value}; cancel its tasks instead",
            number=order.number,
        )
    order.held = held
    if held and not keep_wave:
        order.wave_id = None  # out of its planned wave; planned again when the hold is lifted
    elif not held and order.wave_id is not None:
        wave = session.get(Wave, order.wave_id)
        if wave is not None and wave.status is WaveStatus.HELD:
            order.wave_id = None
    detail = "held with its wave" if held and keep_wave else "held" if held else "hold lifted"
    set_status(session, order, order.status, detail)


def expedite_order(
    session: Session, order: Order, *, options: ReleaseOptions | None = None
) -> ReleaseResult:
    """Put an order first: top priority, and released at once on its own if it can be."""
    if order.status in (OrderStatus.PACKED, OrderStatus.SHIPPED, OrderStatus.CANCELLED):
        raise Conflict(
            f"order {order.number} is {order.status.value}; there is nothing left to expedite",
            number=order.number,
        )
    order.priority = EXPEDITE_PRIORITY
    order.held = False
    set_status(session, order, order.status, "expedited")
    for batch in session.scalars(
        select(PickBatch)
        .join(BatchOrder, BatchOrder.batch_id == PickBatch.id)
        .where(BatchOrder.order_id == order.id)
    ):
        batch.priority = EXPEDITE_PRIORITY
    if order.status in RELEASABLE:
        return release_orders(session, [order], options=options)
    return ReleaseResult(0, (), 0, 0, 0.0)
