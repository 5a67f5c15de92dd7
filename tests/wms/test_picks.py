"""Picks: confirm through the ledger, short picks, re-allocation, replenishment before picks."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from picking.allocation import Shortage
from wms.allocation import SHORTAGE_TEXT, allocate_orders
from wms.db.schema import (
    FloorException,
    Movement,
    OrderEvent,
    OrderLine,
    PickBatch,
    PickTask,
    ReplenishmentTask,
    Reservation,
    Stock,
)
from wms.errors import Conflict, InvalidInput, NotFound
from wms.model import (
    BatchStatus,
    ExceptionKind,
    ExceptionStatus,
    MovementKind,
    OrderStatus,
    ReservationStatus,
    TaskStatus,
)
from wms.picks import (
    cancel_order,
    cancel_task,
    check_replenishment,
    complete_replenishment,
    confirm_pick,
    report_short,
)
from wms.release import release_orders

from .order_flow_site import (
    BACKENDS,
    NOW,
    TODAY,
    Site,
    assert_consistent,
    empty_stock_row,
    fresh_database,
    history,
    new_order,
    open_reservations,
    open_tasks,
    order,
    put_stock,
    set_replenishment,
    site_of,
    tasks_of,
)


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path):
    with fresh_database(request.param, tmp_path) as db:
        yield db


@pytest.fixture
def site(database):
    return site_of(database)


def _release(s: Session, *numbers: str) -> None:
    orders = [order(s, n) for n in numbers]
    allocate_orders(s, orders, today=TODAY)
    release_orders(s, orders, now=NOW)


def _on_hand(s: Session, site: Site, sku: str, code: str) -> tuple[int, int]:
    row = s.execute(
        select(Stock.on_hand, Stock.reserved).where(
            Stock.item_id == site.item[sku], Stock.location_id == site.loc[code]
        )
    ).first()
    return (row.on_hand, row.reserved) if row else (0, 0)


def _line(s: Session, number: str, line_no: int = 1) -> OrderLine:
    return next(line for line in order(s, number).lines if line.line_no == line_no)


def _task_at(s: Session, site: Site, number: str, code: str) -> PickTask:
    return next(t for t in open_tasks(s, number) if t.location_id == site.loc[code])


# --------------------------------------------------------------------------- confirm


def test_confirmed_picks_move_stock_to_the_pack_station_and_advance_order_and_batch(database, site):
    with database.write() as s:
        put_stock(s, site, "MUG", "A1-01", 10)
        put_stock(s, site, "PEN", "A1-02", 10)
        new_order(s, "C-1", [("MUG", 2), ("PEN", 1)])
        _release(s, "C-1")
    with database.read() as s:
        mug, pen = (_task_at(s, site, "C-1", code) for code in ("A1-01", "A1-02"))
        station = order(s, "C-1").pack_station_id
        assert station in (site.loc["PACK-1"], site.loc["PACK-2"])
        station_code = site.code_of(station)
    with database.write() as s:
        first = confirm_pick(s, mug.id, 2, user_id=None, scan_id="scan-1", now=NOW)
    assert (first.picked, first.task_done, first.batch_done) == (2, True, False)
    assert first.order_status is OrderStatus.PICKING
    assert first.replenishment_id is None
    with database.read() as s:
        assert _on_hand(s, site, "MUG", "A1-01") == (8, 0)
        assert _on_hand(s, site, "MUG", station_code) == (2, 0)
        movement = s.get_one(Movement, first.movement_id)
        assert movement.kind is MovementKind.PICK
        assert (movement.from_location_id, movement.to_location_id) == (
            site.loc["A1-01"],
            station,
        )
        assert (movement.quantity, movement.scan_id) == (2, "scan-1")
        assert movement.order_id == order(s, "C-1").id
        assert movement.order_line_id == _line(s, "C-1").id
        line = _line(s, "C-1")
        assert (line.picked_quantity, line.allocated_quantity) == (2, 0)
        reservation = s.get_one(Reservation, mug.reservation_id)
        assert (reservation.status, reservation.quantity) == (ReservationStatus.PICKED, 2)
        batch = s.get_one(PickBatch, mug.batch_id)
        assert batch.status is BatchStatus.IN_PROGRESS and batch.started_at is not None
        assert order(s, "C-1").status is OrderStatus.PICKING
        assert_consistent(s)
    with database.write() as s:
        second = confirm_pick(s, pen.id, 1, now=NOW)
    assert (second.order_status, second.batch_done) == (OrderStatus.PICKED, True)
    with database.read() as s:
        assert order(s, "C-1").status is OrderStatus.PICKED
        assert [st for st, _d in history(s, "C-1")] == [
            OrderStatus.RECEIVED,
            OrderStatus.ALLOCATED,
            OrderStatus.RELEASED,
            OrderStatus.PICKING,
            OrderStatus.PICKED,
        ]
        batch = s.get_one(PickBatch, pen.batch_id)
        assert batch.status is BatchStatus.DONE and batch.completed_at is not None
        assert {t.status for t in tasks_of(s, "C-1")} == {TaskStatus.DONE}
        assert _on_hand(s, site, "PEN", station_code) == (1, 0)
        assert open_reservations(s) == []
        assert_consistent(s)


def test_a_pick_of_the_wrong_quantity_is_refused_and_changes_nothing(database, site):
    with database.write() as s:
        put_stock(s, site, "MUG", "A1-01", 10)
        new_order(s, "C-2", [("MUG", 3)])
        _release(s, "C-2")
    with database.read() as s:
        (task,) = open_tasks(s, "C-2")
    for wrong in (2, 4, 0):
        with pytest.raises(InvalidInput, match="this pick is for 3"), database.write() as s:
            confirm_pick(s, task.id, wrong, now=NOW)
    with database.read() as s:
        assert _on_hand(s, site, "MUG", "A1-01") == (10, 3)
        assert s.get_one(PickTask, task.id).status is TaskStatus.OPEN
        assert s.scalars(select(Movement).where(Movement.kind == MovementKind.PICK)).all() == []
        assert order(s, "C-2").status is OrderStatus.RELEASED
    with database.write() as s:
        confirm_pick(s, task.id, 3, now=NOW)
    with pytest.raises(Conflict), database.write() as s:
        confirm_pick(s, task.id, 3, now=NOW)
    with pytest.raises(NotFound), database.write() as s:
        confirm_pick(s, 987654, 1, now=NOW)
    with database.read() as s:
        assert _on_hand(s, site, "MUG", "A1-01") == (7, 0)
        assert_consistent(s)


# --------------------------------------------------------------------------- short picks


def _shorts(s: Session) -> list[FloorException]:
    return list(s.scalars(select(FloorException).order_by(FloorException.id)))


def _write_offs(s: Session) -> list[Movement]:
    return list(
        s.scalars(
            select(Movement).where(Movement.kind == MovementKind.ADJUSTMENT).order_by(Movement.id)
        )
    )


def test_short_pick_finding_nothing_reallocates_from_another_location(database, site):
    with database.write() as s:
        put_stock(s, site, "MUG", "A1-01", 5, received_at=NOW.replace(hour=1))
        put_stock(s, site, "MUG", "A3-02", 5, received_at=NOW.replace(hour=2))
        new_order(s, "C-3", [("MUG", 3)])
        _release(s, "C-3")
    with database.read() as s:
        (task,) = open_tasks(s, "C-3")
        assert task.location_id == site.loc["A1-01"]
    with database.write() as s:
        result = report_short(s, task.id, 0, now=NOW)
    assert (result.picked, result.missing, result.reallocated, result.backordered) == (0, 3, 3, 0)
    assert result.release is not None and result.release.tasks == 1
    with database.read() as s:
        assert s.get_one(PickTask, task.id).status is TaskStatus.SHORT
        (write_off,) = _write_offs(s)
        assert (write_off.from_location_id, write_off.to_location_id) == (site.loc["A1-01"], None)
        assert write_off.quantity == 3
        assert write_off.reason.startswith("short_pick")
        assert _on_hand(s, site, "MUG", "A1-01") == (2, 0)
        (new_task,) = open_tasks(s, "C-3")
        assert new_task.location_id == site.loc["A3-02"]
        assert (new_task.quantity, new_task.order_line_id) == (3, task.order_line_id)
        assert new_task.batch_id != task.batch_id
        assert s.get_one(PickBatch, new_task.batch_id).code in result.release.batches
        assert _on_hand(s, site, "MUG", "A3-02") == (5, 3)
        (exception,) = _shorts(s)
        assert exception.id == result.exception_id
        assert (exception.kind, exception.status, exception.outcome) == (
            ExceptionKind.SHORT_PICK,
            ExceptionStatus.OPEN,
            "reallocated",
        )
        assert (exception.quantity, exception.task_id) == (3, task.id)
        assert exception.location_id == site.loc["A1-01"]
        assert order(s, "C-3").status is OrderStatus.RELEASED
        assert_consistent(s)
    with database.write() as s:
        done = confirm_pick(s, new_task.id, 3, now=NOW)
    assert done.order_status is OrderStatus.PICKED
    with database.read() as s:
        assert _line(s, "C-3").picked_quantity == 3
        assert_consistent(s)


def test_short_pick_with_some_found_and_no_stock_elsewhere_backorders_the_rest(database, site):
    with database.write() as s:
        put_stock(s, site, "MUG", "A1-01", 5)
        new_order(s, "C-4", [("MUG", 5)])
        _release(s, "C-4")
    with database.read() as s:
        (task,) = open_tasks(s, "C-4")
        station = site.code_of(order(s, "C-4").pack_station_id)
    with database.write() as s:
        result = report_short(s, task.id, 2, now=NOW)
    assert (result.picked, result.missing, result.reallocated, result.backordered) == (2, 3, 0, 3)
    assert result.release is None
    with database.read() as s:
        assert _on_hand(s, site, "MUG", "A1-01") == (0, 0)
        assert _on_hand(s, site, "MUG", station) == (2, 0)
        (write_off,) = _write_offs(s)
        assert write_off.quantity == 3
        line = _line(s, "C-4")
        assert (line.picked_quantity, line.allocated_quantity) == (2, 0)
        reservation = s.get_one(Reservation, task.reservation_id)
        assert (reservation.status, reservation.quantity) == (ReservationStatus.PICKED, 2)
        (exception,) = _shorts(s)
        assert (exception.outcome, exception.quantity) == ("backordered", 3)
        assert "3 backordered" in exception.detail
        assert SHORTAGE_TEXT[Shortage.NO_STOCK] in exception.detail
        assert open_tasks(s, "C-4") == []
        assert order(s, "C-4").status is OrderStatus.PICKED
        assert [st for st, _d in history(s, "C-4")][-2:] == [
            OrderStatus.PICKING,
            OrderStatus.PICKED,
        ]
        assert_consistent(s)


def test_short_pick_partly_reallocated_partly_backordered(database, site):
    with database.write() as s:
        put_stock(s, site, "MUG", "A1-01", 10, received_at=NOW.replace(hour=1))
        put_stock(s, site, "MUG", "A3-02", 2, received_at=NOW.replace(hour=2))
        new_order(s, "C-5", [("MUG", 6)])
        _release(s, "C-5")
    with database.read() as s:
        (task,) = open_tasks(s, "C-5")
    with database.write() as s:
        result = report_short(s, task.id, 1, now=NOW)
    assert (result.picked, result.missing, result.reallocated, result.backordered) == (1, 5, 2, 3)
    with database.read() as s:
        (exception,) = _shorts(s)
        assert exception.outcome == "partly"
        (new_task,) = open_tasks(s, "C-5")
        assert (new_task.location_id, new_task.quantity) == (site.loc["A3-02"], 2)
        line = _line(s, "C-5")
        assert (line.picked_quantity, line.allocated_quantity) == (1, 2)
        assert order(s, "C-5").status is OrderStatus.PICKING
        assert _on_hand(s, site, "MUG", "A1-01") == (4, 0)  # 10 - 1 picked - 5 written off
        assert_consistent(s)


def test_damaged_stock_is_written_off_and_reallocated_likewise(database, site):
    with database.write() as s:
        put_stock(s, site, "MUG", "A1-01", 4, received_at=NOW.replace(hour=1))
        put_stock(s, site, "MUG", "A3-02", 9, received_at=NOW.replace(hour=2))
        new_order(s, "C-6", [("MUG", 4)])
        _release(s, "C-6")
    with database.read() as s:
        (task,) = open_tasks(s, "C-6")
    with database.write() as s:
        result = report_short(s, task.id, 0, kind=ExceptionKind.DAMAGED, now=NOW)
    assert (result.reallocated, result.backordered) == (4, 0)
    with database.read() as s:
        (exception,) = _shorts(s)
        assert (exception.kind, exception.outcome) == (ExceptionKind.DAMAGED, "reallocated")
        (write_off,) = _write_offs(s)
        assert write_off.reason.startswith("damaged")
        assert _on_hand(s, site, "MUG", "A1-01") == (0, 0)
        assert _on_hand(s, site, "MUG", "A3-02") == (9, 4)
        assert_consistent(s)


def test_a_short_must_find_less_than_asked(database, site):
    with database.write() as s:
        put_stock(s, site, "MUG", "A1-01", 5)
        new_order(s, "C-7", [("MUG", 3)])
        _release(s, "C-7")
    with database.read() as s:
        (task,) = open_tasks(s, "C-7")
    for found in (3, 4, -1):
        with pytest.raises(InvalidInput), database.write() as s:
            report_short(s, task.id, found, now=NOW)
    with database.read() as s:
        assert _shorts(s) == []
        assert _on_hand(s, site, "MUG", "A1-01") == (5, 3)


# --------------------------------------------------------------------------- replenishment


def test_a_pick_from_reserve_waits_for_its_replenishment(database, site):
    with database.write() as s:
        face = empty_stock_row(s, site, "MUG", "A1-01")
        reserve = put_stock(s, site, "MUG", "R1-01", 30)
        new_order(s, "C-8", [("MUG", 4)])
        new_order(s, "C-9", [("MUG", 3)])
        allocate_orders(s, [order(s, "C-8"), order(s, "C-9")], today=TODAY)
        assert {r.stock_id for r in open_reservations(s)} == {reserve}
        result = release_orders(s, [order(s, "C-8"), order(s, "C-9")], now=NOW)
    assert result.replenishments == 1
    with database.read() as s:
        (replenishment,) = s.scalars(select(ReplenishmentTask)).all()
        assert (replenishment.from_location_id, replenishment.to_location_id) == (
            site.loc["R1-01"],
            site.loc["A1-01"],
        )
        assert (replenishment.quantity, replenishment.carries_reserved) == (7, 7)
        assert (replenishment.reason, replenishment.status) == ("pick_waiting", TaskStatus.OPEN)
        tasks = open_tasks(s)
        assert len(tasks) == 2
        assert {t.location_id for t in tasks} == {site.loc["A1-01"]}
        assert {t.waits_for_id for t in tasks} == {replenishment.id}
        assert {t.zone_id for t in tasks} == {site.zones["A"]}
    for task in tasks:
        with pytest.raises(Conflict, match="waiting for replenishment"), database.write() as s:
            confirm_pick(s, task.id, task.quantity, now=NOW)
        with pytest.raises(Conflict), database.write() as s:
            report_short(s, task.id, 0, now=NOW)
    with database.read() as s:
        assert _on_hand(s, site, "MUG", "R1-01") == (30, 7)
        assert_consistent(s)
    with database.write() as s:
        complete_replenishment(s, replenishment.id, now=NOW)
    with database.read() as s:
        assert s.get_one(ReplenishmentTask, replenishment.id).status is TaskStatus.DONE
        assert _on_hand(s, site, "MUG", "R1-01") == (23, 0)
        assert _on_hand(s, site, "MUG", "A1-01") == (7, 7)
        assert {r.stock_id for r in open_reservations(s)} == {face}
        assert_consistent(s)
    with pytest.raises(Conflict), database.write() as s:
        complete_replenishment(s, replenishment.id, now=NOW)
    with database.write() as s:
        for task in tasks:
            confirm_pick(s, task.id, task.quantity, now=NOW)
    with database.read() as s:
        assert _on_hand(s, site, "MUG", "A1-01") == (0, 0)
        assert {order(s, n).status for n in ("C-8", "C-9")} == {OrderStatus.PICKED}
        assert_consistent(s)


def test_a_pick_face_under_its_minimum_gets_a_replenishment(database, site):
    with database.write() as s:
        set_replenishment(s, site, "A1-01", 5, 20)
        put_stock(s, site, "MUG", "A1-01", 7)
        put_stock(s, site, "MUG", "R1-01", 50)
        new_order(s, "C-10", [("MUG", 2)])
        new_order(s, "C-11", [("MUG", 1)])
        _release(s, "C-10", "C-11")
    with database.read() as s:
        first, second = (open_tasks(s, n)[0] for n in ("C-10", "C-11"))
        assert s.scalars(select(ReplenishmentTask)).all() == []
    with database.write() as s:
        above = confirm_pick(s, first.id, 2, now=NOW)  # 5 left: not under the minimum
    assert above.replenishment_id is None
    with database.write() as s:
        below = confirm_pick(s, second.id, 1, now=NOW)  # 4 left
    assert below.replenishment_id is not None
    with database.read() as s:
        task = s.get_one(ReplenishmentTask, below.replenishment_id)
        assert (task.reason, task.quantity, task.carries_reserved) == ("below_min", 16, 0)
        assert (task.from_location_id, task.to_location_id) == (
            site.loc["R1-01"],
            site.loc["A1-01"],
        )
    with database.write() as s:
        # Still under the minimum, but one replenishment is on its way: no second one.
        assert check_replenishment(s, site.loc["A1-01"], site.item["MUG"], now=NOW) is None
    with database.write() as s:
        complete_replenishment(s, below.replenishment_id, now=NOW)
    with database.read() as s:
        assert _on_hand(s, site, "MUG", "A1-01") == (20, 0)
        assert _on_hand(s, site, "MUG", "R1-01") == (34, 0)
        assert_consistent(s)


# --------------------------------------------------------------------------- cancel


def test_cancel_after_a_pick_cancels_the_open_tasks_and_frees_the_rest(database, site):
    with database.write() as s:
        put_stock(s, site, "MUG", "A1-01", 10)
        put_stock(s, site, "PEN", "A1-02", 10)
        new_order(s, "C-12", [("MUG", 2), ("PEN", 3)])
        _release(s, "C-12")
    with database.write() as s:
        mug = _task_at(s, site, "C-12", "A1-01")
        confirm_pick(s, mug.id, 2, now=NOW)
    with database.write() as s:
        assert cancel_order(s, order(s, "C-12")) == 3
    with database.read() as s:
        statuses = {site.code_of(t.location_id): t.status for t in tasks_of(s, "C-12")}
        assert statuses == {"A1-01": TaskStatus.DONE, "A1-02": TaskStatus.CANCELLED}
        assert _on_hand(s, site, "PEN", "A1-02") == (10, 0)
        status, detail = history(s, "C-12")[-1]
        assert status is OrderStatus.CANCELLED
        assert "2 unit(s) already picked must be put back" in detail
        assert_consistent(s)
    with database.write() as s:
        pen = next(t for t in tasks_of(s, "C-12") if t.status is TaskStatus.CANCELLED)
    with pytest.raises(Conflict), database.write() as s:
        confirm_pick(s, pen.id, 3, now=NOW)


def test_cancelling_an_order_whose_pick_waits_for_replenishment_keeps_reserved_right(
    database, site
):
    with database.write() as s:
        empty_stock_row(s, site, "MUG", "A1-01")
        put_stock(s, site, "MUG", "R1-01", 30)
        new_order(s, "C-13", [("MUG", 4)])
        new_order(s, "C-14", [("MUG", 4)])
        _release(s, "C-13")
        allocate_orders(s, [order(s, "C-14")], today=TODAY)  # held in reserve, not released
    with database.write() as s:
        cancel_order(s, order(s, "C-13"))
    with database.read() as s:
        assert_consistent(s)
        assert {t.status for t in tasks_of(s, "C-13")} == {TaskStatus.CANCELLED}
        pending = s.scalars(
            select(ReplenishmentTask).where(ReplenishmentTask.status == TaskStatus.OPEN)
        ).all()
    for task in pending:
        with database.write() as s:
            complete_replenishment(s, task.id, now=NOW)
    with database.read() as s:
        assert_consistent(s)
        assert _on_hand(s, site, "MUG", "R1-01")[1] == 4  # C-14's reservation still there


def test_order_history_has_every_step_in_time_order(database, site):
    with database.write() as s:
        put_stock(s, site, "MUG", "A1-01", 10)
        new_order(s, "C-15", [("MUG", 1)])
    with database.write() as s:
        allocate_orders(s, [order(s, "C-15")], today=TODAY)
    with database.write() as s:
        release_orders(s, [order(s, "C-15")])  # at the real time, like every other step
    with database.write() as s:
        (task,) = open_tasks(s, "C-15")
        confirm_pick(s, task.id, 1)
    with database.read() as s:
        events = s.scalars(
            select(OrderEvent)
            .where(OrderEvent.order_id == order(s, "C-15").id)
            .order_by(OrderEvent.id)
        ).all()
    assert [e.status for e in events] == [
        OrderStatus.RECEIVED,
        OrderStatus.ALLOCATED,
        OrderStatus.RELEASED,
        OrderStatus.PICKING,
        OrderStatus.PICKED,
    ]
    moments = [e.at for e in events]
    assert all(m is not None for m in moments)
    assert moments == sorted(moments)


def test_cancelling_the_last_open_order_of_a_cart_closes_the_cart(database, site):
    with database.write() as s:
        put_stock(s, site, "MUG", "A1-01", 10)
        put_stock(s, site, "PEN", "A1-02", 10)
        new_order(s, "C-16", [("MUG", 1)])
        new_order(s, "C-17", [("PEN", 1)])
        _release(s, "C-16", "C-17")
    with database.write() as s:
        (task,) = open_tasks(s, "C-16")
        assert {t.batch_id for t in open_tasks(s)} == {task.batch_id}  # one cart
        confirm_pick(s, task.id, 1, now=NOW)
    with database.write() as s:
        cancel_order(s, order(s, "C-17"))
    with database.read() as s:
        assert open_tasks(s) == []
        assert s.get_one(PickBatch, task.batch_id).status is BatchStatus.DONE


def test_a_below_min_replenishment_can_still_be_done_after_new_allocations(database, site):
    with database.write() as s:
        set_replenishment(s, site, "A1-01", 5, 20)
        put_stock(s, site, "MUG", "A1-01", 6)
        put_stock(s, site, "MUG", "R1-01", 50)
        new_order(s, "C-18", [("MUG", 2)])
        _release(s, "C-18")
    with database.write() as s:
        (task,) = open_tasks(s, "C-18")
        replenishment_id = confirm_pick(s, task.id, 2, now=NOW).replenishment_id
        assert replenishment_id is not None
    with database.write() as s:
        new_order(s, "C-19", [("MUG", 40)])
        allocate_orders(s, [order(s, "C-19")], today=TODAY)
    with database.write() as s:
        complete_replenishment(s, replenishment_id, now=NOW)
    with database.read() as s:
        assert s.get_one(ReplenishmentTask, replenishment_id).status is TaskStatus.DONE
        assert_consistent(s)


# --------------------------------------------------------------------------- cancel a task


def test_a_cancelled_task_gives_its_units_back_and_is_picked_elsewhere(database, site):
    with database.write() as s:
        put_stock(s, site, "MUG", "A1-01", 3)
        put_stock(s, site, "MUG", "A1-02", 5)
        new_order(s, "X-1", [("MUG", 2)])
        _release(s, "X-1")
    with database.read() as s:
        (task,) = open_tasks(s, "X-1")
        first_place = task.location_id
    with database.write() as s:
        result = cancel_task(s, task.id, now=NOW)
    assert (result.released, result.reallocated, result.backordered) == (2, 2, 0)
    with database.read() as s:
        assert s.get_one(PickTask, task.id).status is TaskStatus.CANCELLED
        (again,) = open_tasks(s, "X-1")
        assert again.location_id != first_place and again.quantity == 2
        # Nothing written off: the units are still where they were, free again.
        on_hand, reserved = _on_hand(s, site, "MUG", site.code_of(first_place))
        assert reserved == 0 and on_hand in (3, 5)
        assert _line(s, "X-1").allocated_quantity == 2
        assert_consistent(s)


def test_a_cancelled_task_with_no_other_stock_is_backordered(database, site):
    with database.write() as s:
        put_stock(s, site, "PEN", "A1-02", 4)
        new_order(s, "X-2", [("PEN", 3)])
        _release(s, "X-2")
    with database.read() as s:
        (task,) = open_tasks(s, "X-2")
    with database.write() as s:
        result = cancel_task(s, task.id, now=NOW)
        with pytest.raises(Conflict):
            cancel_task(s, task.id, now=NOW)  # already cancelled
    assert (result.reallocated, result.backordered, result.batch_done) == (0, 3, True)
    with database.read() as s:
        assert open_tasks(s, "X-2") == []
        assert _on_hand(s, site, "PEN", "A1-02") == (4, 0)
        assert _line(s, "X-2").allocated_quantity == 0
        assert_consistent(s)
