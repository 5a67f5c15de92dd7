"""A picker's shift on the server side: take a cart, bind totes, scan, pick, and repeats."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, update

from wms import handheld
from wms.access import authenticate_badge
from wms.allocation import allocate_orders
from wms.db import Database
from wms.db.group_commit import GroupCommit
from wms.db.ledger import verify_ledger
from wms.db.schema import ItemGtin, Location, Order, PickTask, ScanEvent
from wms.demo import DEMO_LOGINS, generate_demo
from wms.handheld import handle_scan, scan, short_pick, snapshot, take_next_batch
from wms.model import OrderStatus, Role, ScanOutcome
from wms.release import ReleaseOptions, plan_waves, release_wave


@pytest.fixture
def floor(database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Database, int]]:
    """A small demo warehouse with its first wave released; the id of an English picker."""
    monkeypatch.setattr("wms.access._SCRYPT_N", 2**4)  # the demo's users, hashed fast
    generate_demo(database, pick_locations=120, items=40, b2c_orders=30, b2b_orders=2)
    with database.write() as session:
        allocate_orders(session, list(session.scalars(select(Order).order_by(Order.id))))
        waves = plan_waves(session)
        for wave in waves:
            release_wave(session, wave.code, options=ReleaseOptions(totes_per_cart=4))
        badge = next(x.badge for x in DEMO_LOGINS if x.role == Role.PICKER and x.badge)
        picker = authenticate_badge(session, badge)
        assert picker is not None
        picker_id = picker.id
    yield database, picker_id


def _scan(db: Database, user_id: int, raw: str, client_id: str | None = None):
    with db.write() as session:
        return handle_scan(
            session, user_id=user_id, client_id=client_id or str(uuid.uuid4()), raw=raw
        )


def _unit_gtin(db: Database, item_id: int) -> str:
    with db.read() as session:
        return session.scalar(
            select(ItemGtin.gtin).where(ItemGtin.item_id == item_id, ItemGtin.pack_quantity == 1)
        )


def test_a_whole_cluster_batch_is_picked_by_scans(floor):
    db, picker = floor
    with db.write() as session:
        batch = take_next_batch(session, picker)
        assert batch is not None
        view = snapshot(session, picker)
    assert view["step"] == "tote_start"
    total, tote_list = view["batch"]["total"], view["batch"]["totes"]
    for index, _tote in enumerate(tote_list, start=1):
        answer = _scan(db, picker, f"TOTE-{index:04d}")
        assert answer.ok and answer.reason == "tote_bound"
    picks = 0
    while True:
        with db.read() as session:
            view = snapshot(session, picker)
        if view["task"] is None:
            break
        task = view["task"]
        wrong = _scan(db, picker, "A-99-99-9")
        assert not wrong.ok and wrong.reason == "wrong_location"
        assert _scan(db, picker, task["location"]).reason == "location_ok"
        with db.read() as session:
            item_id = session.get_one(PickTask, task["id"]).item_id
        gtin = _unit_gtin(db, item_id)
        for _ in range(task["quantity"]):
            assert _scan(db, picker, gtin).reason == "item_ok"
        answer = _scan(db, picker, task["tote"] or "")
        assert answer.ok and answer.reason == "picked", answer
        picks += 1
    assert answer.params["batch_done"]
    assert picks == total and view["step"] == "idle"  # the cart is done: ready for the next
    with db.read() as session:
        assert verify_ledger(session) == []
        refused = session.scalar(
            select(func.count())
            .select_from(ScanEvent)
            .where(ScanEvent.outcome == ScanOutcome.REFUSED, ScanEvent.reason == "wrong_location")
        )
        assert refused == picks  # every wrong scan is in the log for the KPIs
        statuses = set(
            session.scalars(
                select(Order.status).where(Order.number.in_([t["order"] for t in tote_list]))
            )
        )
        assert statuses <= {OrderStatus.PICKED, OrderStatus.PICKING}


def test_a_repeated_scan_is_answered_the_same_and_counted_once(floor):
    db, picker = floor
    with db.write() as session:
        take_next_batch(session, picker)
        totes = snapshot(session, picker)["batch"]["totes"]
    for index, _tote in enumerate(totes, start=1):
        _scan(db, picker, f"TOTE-{index:04d}")
    with db.read() as session:
        task = snapshot(session, picker)["task"]
    _scan(db, picker, task["location"])
    with db.read() as session:
        gtin = _unit_gtin(db, session.get_one(PickTask, task["id"]).item_id)
    client_id = str(uuid.uuid4())
    first = _scan(db, picker, gtin, client_id)
    again = _scan(db, picker, gtin, client_id)
    assert first.ok and again.ok and again.repeated
    assert again.params == first.params
    with db.read() as session:
        assert session.get_one(PickTask, task["id"]).scanned_quantity == 1


def test_wrong_item_and_unreadable_scans_are_refused_with_a_reason(floor):
    db, picker = floor
    with db.write() as session:
        take_next_batch(session, picker)
        totes = snapshot(session, picker)["batch"]["totes"]
    for index, _tote in enumerate(totes, start=1):
        _scan(db, picker, f"TOTE-{index:04d}")
    with db.read() as session:
        task = snapshot(session, picker)["task"]
        other = session.scalar(
            select(ItemGtin.gtin).where(
                ItemGtin.item_id != session.get_one(PickTask, task["id"]).item_id
            )
        )
    _scan(db, picker, task["location"])
    assert _scan(db, picker, other).reason == "wrong_item"
    assert _scan(db, picker, "5412345000014").reason == "unreadable"  # bad check digit
    assert _scan(db, picker, "TOTE-0001").reason == "wrong_item"


def test_short_pick_from_the_handheld_raises_an_exception_and_moves_on(floor):
    db, picker = floor
    with db.write() as session:
        take_next_batch(session, picker)
        totes = snapshot(session, picker)["batch"]["totes"]
    for index, _tote in enumerate(totes, start=1):
        _scan(db, picker, f"TOTE-{index:04d}")
    with db.read() as session:
        task = snapshot(session, picker)["task"]
    client_id = str(uuid.uuid4())
    with db.write() as session:
        answer = short_pick(
            session, user_id=picker, client_id=client_id, task_id=task["id"], found=0
        )
    assert answer.ok and answer.params["missing"] == task["quantity"]
    with db.write() as session:
        again = short_pick(
            session, user_id=picker, client_id=client_id, task_id=task["id"], found=0
        )
    assert again.repeated
    with db.read() as session:
        assert snapshot(session, picker)["task"]["id"] != task["id"]
        assert verify_ledger(session) == []
        assert session.get_one(Location, session.get_one(PickTask, task["id"]).location_id)


def test_skip_sends_the_pick_to_the_end_of_the_route(floor):
    from wms.handheld import record_pause, skip_task

    db, picker = floor
    with db.write() as session:
        take_next_batch(session, picker)
        totes = snapshot(session, picker)["batch"]["totes"]
    for index, _tote in enumerate(totes, start=1):
        _scan(db, picker, f"TOTE-{index:04d}")
    with db.read() as session:
        first = snapshot(session, picker)["task"]
    with db.write() as session:
        answer = skip_task(
            session, user_id=picker, client_id=str(uuid.uuid4()), task_id=first["id"]
        )
        assert answer.ok and answer.reason == "skipped"
    with db.read() as session:
        now = snapshot(session, picker)
        sequences = session.scalars(
            select(PickTask.sequence).where(
                PickTask.batch_id == session.get_one(PickTask, first["id"]).batch_id
            )
        ).all()
        assert session.get_one(PickTask, first["id"]).sequence == max(sequences)
    if now["batch"]["total"] > 1:
        assert now["task"]["id"] != first["id"]
    with db.write() as session:
        assert record_pause(session, user_id=picker, client_id=str(uuid.uuid4()), paused=True).ok


def test_the_view_sent_with_each_answer_is_the_cart_as_stored(floor):
    """The scan path answers from memory where it can; a fresh read must always agree."""
    db, picker = floor
    with db.write() as session:
        take_next_batch(session, picker)
        view = snapshot(session, picker)
    index, steps = 0, set()
    while view["step"] not in ("idle", "done", "waiting"):
        task, step = view["task"], view["step"]
        steps.add(step)
        index += 1
        if step == "tote_start":
            raw = f"TOTE-V{index:04d}"
        elif step == "location":
            raw = "A-99-99-9" if index % 3 == 0 else task["location"]  # some wrong scans too
        elif step == "item":
            with db.read() as session:
                raw = _unit_gtin(db, session.get_one(PickTask, task["id"]).item_id)
        else:
            raw = task["tote"]
        with db.write() as session:
            _answer, view = scan(session, user_id=picker, client_id=uuid.uuid4().hex, raw=raw)
        with db.read() as session:
            assert view == snapshot(session, picker), (step, raw)
    assert steps == {"tote_start", "location", "item", "tote"}


def test_carts_kept_by_the_writer_agree_with_a_fresh_read_and_see_changes_made_elsewhere(
    floor, monkeypatch
):
    db, picker = floor
    writer = GroupCommit(db)
    reads = []
    monkeypatch.setattr(handheld, "load_cart", _counting(handheld.load_cart, reads))
    with db.write() as session:
        take_next_batch(session, picker)
        view = snapshot(session, picker)
    scans, picks, changed_elsewhere = 0, 0, False
    while view["step"] not in ("idle", "done", "waiting"):
        task, step = view["task"], view["step"]
        if step == "item" and not changed_elsewhere:
            # A supervisor's change on another connection: the location must be scanned again.
            changed_elsewhere = True
            with db.write() as session:
                session.execute(
                    update(PickTask).where(PickTask.id == task["id"]).values(location_confirmed=0)
                )
            raw = _unit_gtin(db, _item_of(db, task["id"]))
            answer, view = writer.run(_kept_scan(writer, picker, raw))
            assert answer.reason == "wrong_location"  # a kept cart would have counted it
            continue
        if step == "tote_start":
            raw = f"TOTE-K{scans:04d}"
        elif step == "location":
            raw = task["location"]
        elif step == "item":
            raw = _unit_gtin(db, _item_of(db, task["id"]))
        else:
            raw = task["tote"]
        answer, view = writer.run(_kept_scan(writer, picker, raw))
        scans += 1
        picks += answer.reason == "picked"
        assert answer.ok, answer
        with db.read() as session:
            assert view == snapshot(session, picker), (step, raw)
    writer.close()
    assert changed_elsewhere and view["step"] == "idle"
    if db.dialect == "sqlite":  # elsewhere every group reads the carts again
        # Read at the start, after the change and after the last pick (the cart is done):
        # not after the other picks, and not the test's own reads.
        assert picks > 1
        assert reads.count("group-commit") == 3


def _counting(function, calls):
    def counted(*args, **kwargs):
        calls.append(threading.current_thread().name)
        return function(*args, **kwargs)

    return counted


def _item_of(db: Database, task_id: int) -> int:
    with db.read() as session:
        return session.get_one(PickTask, task_id).item_id


def _kept_scan(writer: GroupCommit, picker: int, raw: str):
    def work(session):
        return scan(session, user_id=picker, client_id=uuid.uuid4().hex, raw=raw, carts=writer.kept)

    return work
