"""The floor dashboard: page, Socket.IO namespace, KPI API and supervisor actions with audit."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tests.web.test_api_flow_support import FlowClient, build_floor, client_for, order, receive
from web.extensions import socketio
from wms import floor_state
from wms.db import Database
from wms.db.schema import (
    AuditLog,
    FloorException,
    Movement,
    Order,
    PickBatch,
    PickTask,
    Wave,
)
from wms.model import ExceptionStatus, MovementKind, OrderStatus, Role, TaskStatus, WaveStatus


@pytest.fixture
def erp(app: Flask, database: Database, api_token: str) -> FlowClient:
    """The integration's client, on a floor with locations and items."""
    client = FlowClient(app.test_client(), api_token)
    build_floor(client, database)
    return client


@pytest.fixture
def boss(app: Flask, database: Database) -> FlowClient:
    """The supervisor's API client."""
    return client_for(app, database, Role.SUPERVISOR)


def _released(erp: FlowClient, boss: FlowClient, database: Database, number: str) -> str:
    """An order of 2 mugs released at once (expedited); its batch code."""
    receive(database, "MUG", "A-01-01", 10)
    erp.ok("post", "/orders", order(number, ("MUG", 2)), 201)
    return str(boss.ok("post", f"/orders/{number}/expedite")["release"]["batches"][0])


def _first_task(boss: FlowClient, code: str) -> int:
    return int(boss.ok("get", f"/batches/{code}")["tasks"][0]["id"])


def _wait_for(
    socket: Any,
    name: str,
    matches: Any = lambda data: True,
    namespace: str = "/dashboard",
    seconds: float = 15.0,
) -> Any:
    """The first ``name`` event whose data ``matches``, within ``seconds`` (a real thread)."""
    deadline = time.monotonic() + seconds
    seen: list[Any] = []
    pending = socket.__dict__.setdefault("pending", [])  # events read but not yet asked for
    while time.monotonic() < deadline:
        pending.extend(socket.get_received(namespace))
        while pending:
            event = pending.pop(0)
            seen.append(event["name"])
            if event["name"] == name and matches(event["args"][0]):
                return event["args"][0]
        time.sleep(0.1)
    raise AssertionError(f"no matching {name!r} event within {seconds} s; saw {seen}")


# --- the page and the socket -------------------------------------------------------------


def test_the_page_is_for_supervisors(app, client, login):
    assert client.get("/dashboard").status_code == 302  # to the login page
    login(Role.PICKER)
    assert client.get("/dashboard").status_code == 403
    client.post("/logout", data={})
    other = app.test_client()
    page = other.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    other.post("/login", data={"username": "supervisor", "password": "correct-horse",
                               "csrf_token": token})  # fmt: skip
    html = other.get("/dashboard").get_data(as_text=True)
    assert "Floor dashboard" in html
    assert "vendor/chart.umd.min.js" in html
    assert 'name="csrf-token"' in html


def test_the_snapshot_on_connect_has_every_panel(app, client, login, erp, boss, database):
    _released(erp, boss, database, "O-1")
    login(Role.SUPERVISOR)
    socket = socketio.test_client(app, namespace="/dashboard", flask_test_client=client)
    assert socket.is_connected("/dashboard")
    received = socket.get_received("/dashboard")
    assert [e["name"] for e in received] == ["snapshot"]
    snap = received[0]["args"][0]
    assert {
        "orders", "waves", "pickers", "exceptions", "devices", "kpis", "zones", "chart",
        "audit", "print_jobs", "recent_picks",
    } <= set(snap)  # fmt: skip
    assert snap["orders"]["by_status"] == {"released": 1}
    assert snap["devices"] == {"configured": False, "items": []}
    assert [p["username"] for p in snap["pickers"]] == ["picker"]
    assert snap["exceptions"] == {"open": 0, "items": []}
    assert "_picks_last_hour" not in snap
    assert len(snap["chart"]["labels"]) == len(snap["chart"]["picks"]) >= 32
    socket.disconnect("/dashboard")


@pytest.mark.parametrize("role", [None, Role.PICKER, Role.PACKER, Role.INTEGRATION])
def test_only_supervisors_may_watch(app, client, login, role):
    if role is not None:
        login(role)
    socket = socketio.test_client(app, namespace="/dashboard", flask_test_client=client)
    assert not socket.is_connected("/dashboard")


def test_a_confirmed_pick_reaches_the_dashboard(app, client, login, erp, boss, database):
    app.extensions["wms_dashboard"].tick = 0.2
    code = _released(erp, boss, database, "O-1")
    login(Role.SUPERVISOR)
    socket = socketio.test_client(app, namespace="/dashboard", flask_test_client=client)
    socket.get_received("/dashboard")
    task = _first_task(boss, code)
    boss.ok("post", f"/tasks/{task}/confirm", {"quantity": 2})
    picks = _wait_for(socket, "picks")
    assert [(p["location"], p["sku"], p["quantity"], p["zone"]) for p in picks] == [
        ("A-01-01", "MUG", 2, "A")
    ]
    update = _wait_for(socket, "update", lambda data: "orders" in data)
    assert update["orders"]["by_status"] == {"picked": 1}
    assert "devices" not in update  # only the panels that changed are sent
    socket.disconnect("/dashboard")


def test_a_device_manager_shows_its_health(app, client, login):
    from devices.health import DeviceHealth, HealthState

    class Manager:
        def health(self) -> list[DeviceHealth]:
            return [DeviceHealth("zebra-1", "printer", HealthState.DEVICE_FAULT, "paper out")]

    app.extensions["wms_devices"] = Manager()
    login(Role.SUPERVISOR)
    socket = socketio.test_client(app, namespace="/dashboard", flask_test_client=client)
    snap = socket.get_received("/dashboard")[0]["args"][0]
    assert snap["devices"]["configured"] is True
    (device,) = snap["devices"]["items"]
    assert (device["name"], device["state"], device["label"], device["detail"]) == (
        "zebra-1",
        "device_fault",
        "offline",
        "paper out",
    )
    socket.disconnect("/dashboard")


# --- KPIs through the API ----------------------------------------------------------------


def test_kpis_as_json_and_csv(app, erp, boss, database):
    code = _released(erp, boss, database, "O-1")
    boss.ok("post", f"/tasks/{_first_task(boss, code)}/confirm", {"quantity": 2})
    figures = boss.ok("get", "/kpis")
    assert figures["total"]["picks"] == 1
    assert figures["total"]["units"] == 2
    assert figures["hours"] == 8.0
    assert [p["username"] for p in figures["by_picker"]] == ["supervisor"]
    assert figures["by_zone"][0]["code"] == "A"

    response = boss.get("/kpis?format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["section", "key", "name"]
    assert rows[2][:6] == ["total", "", "", "1", "1", "2"]

    by_accept = boss.get("/kpis", headers={"Accept": "text/csv"})
    assert by_accept.mimetype == "text/csv"
    assert erp.get("/kpis").status_code == 200  # integrations read KPIs too


def test_kpis_refuse_a_bad_range_with_a_clear_message(boss):
    reversed_range = boss.get("/kpis?from=2026-03-02T10:00:00Z&to=2026-03-02T08:00:00Z")
    assert reversed_range.status_code == 422
    assert "after 'from'" in reversed_range.get_json()["message"]
    assert boss.get("/kpis?from=yesterday").status_code == 422
    assert boss.get("/kpis?format=xml").status_code == 422
    too_long = boss.get("/kpis?from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z")
    assert "366 days" in too_long.get_json()["message"]


def test_kpis_need_a_reader_role(app, database):
    picker = client_for(app, database, Role.PICKER)
    assert picker.get("/kpis").status_code == 403


# --- actions and the audit log -----------------------------------------------------------


def _audit(database: Database) -> list[tuple[str, str, str, str]]:
    with database.read() as session:
        return [
            (a.username, a.action, a.target, a.reason)
            for a in session.scalars(select(AuditLog).order_by(AuditLog.id))
        ]


def test_expedite_and_cancel_are_audited(erp, boss, database):
    receive(database, "MUG", "A-01-01", 10)
    erp.ok("post", "/orders", order("O-7", ("MUG", 1)), 201)
    done = boss.ok("post", "/actions/orders/O-7/expedite", {"reason": "customer called"})
    assert done["action"] == "expedite_order"
    assert done["target"] == "order:O-7"
    assert done["detail"]["batches"] == 1

    assert boss.post("/actions/orders/O-7/cancel", {}).status_code == 422  # a reason is needed
    cancelled = boss.ok("post", "/actions/orders/O-7/cancel", {"reason": "fraud check"})
    assert cancelled["detail"] == {"units_freed": 1}
    assert _audit(database) == [
        ("supervisor", "expedite_order", "order:O-7", "customer called"),
        ("supervisor", "cancel_order", "order:O-7", "fraud check"),
    ]
    # A refused action writes nothing.
    again = boss.post("/actions/orders/O-7/cancel", {"reason": "twice"})
    assert again.status_code == 409
    assert boss.post("/actions/orders/NOPE/expedite", {}).status_code == 404
    assert len(_audit(database)) == 2
    log = boss.ok("get", "/actions/audit?page_size=1")["items"]
    assert [(e["action"], e["username"]) for e in log] == [("cancel_order", "supervisor")]


def test_actions_are_for_supervisors_only(app, database, erp):
    receive(database, "MUG", "A-01-01", 10)
    erp.ok("post", "/orders", order("O-8", ("MUG", 1)), 201)
    for role in (Role.PICKER, Role.PACKER, Role.INTEGRATION):
        caller = client_for(app, database, role)
        assert caller.post("/actions/orders/O-8/expedite", {}).status_code == 403
        assert caller.get("/actions/audit").status_code == 403
    assert (
        client_for(app, database, Role.ADMIN).post("/actions/orders/O-8/expedite", {}).status_code
        == 200
    )
    assert _audit(database) == [("admin", "expedite_order", "order:O-8", "")]


def test_a_browser_session_needs_its_csrf_token(app, client, login, erp, database):
    receive(database, "MUG", "A-01-01", 10)
    erp.ok("post", "/orders", order("O-9", ("MUG", 1)), 201)
    app.config["WTF_CSRF_ENABLED"] = True
    login(Role.SUPERVISOR)
    refused = client.post("/api/v1/actions/orders/O-9/expedite", json={})
    assert refused.status_code == 400
    page = client.get("/dashboard").get_data(as_text=True)
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    done = client.post(
        "/api/v1/actions/orders/O-9/expedite", json={}, headers={"X-CSRFToken": token}
    )
    assert done.status_code == 200, done.get_json()


def test_reassign_and_pause_a_picker(app, erp, boss, database):
    code = _released(erp, boss, database, "O-1")
    done = boss.ok(
        "post", f"/actions/batches/{code}/reassign", {"picker": "picker", "reason": "Jamie left"}
    )
    assert done["detail"] == {"picker": "picker"}
    with database.read() as session:
        batch = session.scalar(select(PickBatch).where(PickBatch.code == code))
        assert batch is not None and batch.picker_id is not None
    paused = boss.ok("post", "/actions/pickers/picker/pause", {"reason": "first aid"})
    assert paused["action"] == "pause_picker"
    resumed = boss.ok("post", "/actions/pickers/picker/pause", {"paused": False})
    assert resumed["action"] == "resume_picker"
    assert boss.post("/actions/pickers/supervisor/pause", {}).status_code == 404
    assert [a[1] for a in _audit(database)] == ["reassign_batch", "pause_picker", "resume_picker"]


def test_the_dashboard_sees_a_paused_picker(app, client, login, boss, database):
    boss.ok("post", "/actions/pickers/picker/pause", {"reason": "break"})
    login(Role.SUPERVISOR)
    socket = socketio.test_client(app, namespace="/dashboard", flask_test_client=client)
    snap = socket.get_received("/dashboard")[0]["args"][0]
    assert [(p["username"], p["paused"]) for p in snap["pickers"]] == [("picker", True)]
    assert snap["audit"][0]["action"] == "pause_picker"
    socket.disconnect("/dashboard")


def test_release_and_hold_waves(erp, boss, database):
    receive(database, "MUG", "A-01-01", 10)
    for n, carrier in enumerate(("DHL", "UPS")):
        erp.ok(
            "post",
            "/orders",
            order(f"W-{n}", ("MUG", 1), carrier=carrier, cut_off="2030-01-01T16:00:00Z"),
            201,
        )
    waves = boss.ok("post", "/waves/plan", status=201)["waves"]
    first, second = (w["code"] for w in waves)
    released = boss.ok("post", f"/actions/waves/{first}/release", {"reason": "truck early"})
    assert released["detail"]["orders"] == 1
    held = boss.ok("post", f"/actions/waves/{second}/hold", {"reason": "carrier strike"})
    assert held["detail"]["orders_held"] == 1
    with database.read() as session:
        assert session.scalars(select(Order.held).order_by(Order.number)).all() == [False, True]
        # Held whole: the wave keeps its order, shows as held, and is not planned again.
        held_wave = session.scalar(select(Wave).where(Wave.code == second))
        assert held_wave is not None and held_wave.status is WaveStatus.HELD
        assert session.scalar(select(Order.wave_id).where(Order.number == "W-1")) == held_wave.id
    assert boss.ok("post", "/waves/plan", status=201)["waves"] == []
    with database.read() as session:
        assert {w["code"]: w["status"] for w in floor_state.waves_panel(session)}[second] == "held"
    assert boss.post(f"/actions/waves/{first}/hold", {}).status_code == 409
    assert boss.post(f"/actions/waves/{second}/hold", {}).status_code == 409
    assert boss.post("/actions/waves/NOPE/release", {}).status_code == 404
    # Releasing the held wave lifts its orders' holds and releases them.
    again = boss.ok("post", f"/actions/waves/{second}/release", {"reason": "strike over"})
    assert again["detail"]["orders"] == 1
    with database.read() as session:
        assert session.scalars(select(Order.held).order_by(Order.number)).all() == [False, False]
        assert session.scalars(select(Order.status).order_by(Order.number)).all() == [
            OrderStatus.RELEASED,
            OrderStatus.RELEASED,
        ]
    assert [a[1:] for a in _audit(database)] == [
        ("release_wave", f"wave:{first}", "truck early"),
        ("hold_wave", f"wave:{second}", "carrier strike"),
        ("release_wave", f"wave:{second}", "strike over"),
    ]


def _short(erp: FlowClient, boss: FlowClient, database: Database) -> int:
    """A short pick (0 of 2 found at A-01-01, nothing elsewhere): an open exception's id."""
    code = _released(erp, boss, database, "O-1")
    boss.ok("post", f"/tasks/{_first_task(boss, code)}/short", {"found": 0})
    with database.read() as session:
        exception = session.scalar(select(FloorException))
        assert exception is not None
        return exception.id


def test_resolve_an_exception_by_adjusting_stock(erp, boss, database):
    exception_id = _short(erp, boss, database)
    path = f"/actions/exceptions/{exception_id}/resolve"
    no_reason = boss.post(path, {"resolution": "adjust_stock", "counted": 3})
    assert no_reason.status_code == 422
    assert "reason" in no_reason.get_json()["message"]
    assert boss.post(path, {"resolution": "tidy_up"}).status_code == 422
    done = boss.ok(
        "post", path, {"resolution": "adjust_stock", "counted": 3, "reason": "found behind"}
    )
    assert done["detail"]["resolution"] == "adjust_stock"
    with database.read() as session:
        exception = session.get_one(FloorException, exception_id)
        assert exception.status is ExceptionStatus.RESOLVED
        adjustments = session.scalars(
            select(Movement).where(
                Movement.kind == MovementKind.ADJUSTMENT, Movement.reason.like("count after%")
            )
        ).all()
        assert [(m.quantity, m.to_location_id is not None) for m in adjustments] == [
            (abs(done["detail"]["adjusted"]), done["detail"]["adjusted"] > 0)
        ]
    assert boss.post(path, {"resolution": "backorder"}).status_code == 409


def test_resolve_an_exception_by_reallocating(erp, boss, database):
    exception_id = _short(erp, boss, database)
    path = f"/actions/exceptions/{exception_id}/resolve"
    nothing_free = boss.post(path, {"resolution": "reallocate"})
    assert nothing_free.status_code == 409
    assert "no free stock" in nothing_free.get_json()["message"]
    receive(database, "MUG", "A-02-01", 5)
    done = boss.ok("post", path, {"resolution": "reallocate", "reason": "new stock"})
    assert done["detail"]["reallocated"] == 2
    assert done["detail"]["tasks"] == 1
    with database.read() as session:
        assert session.scalar(select(Order.status)) is OrderStatus.RELEASED
    assert [a[1] for a in _audit(database)] == ["resolve_exception"]


def test_resolve_by_backorder_and_the_queue_empties(app, client, login, erp, boss, database):
    exception_id = _short(erp, boss, database)
    login(Role.SUPERVISOR)
    socket = socketio.test_client(app, namespace="/dashboard", flask_test_client=client)
    snap = socket.get_received("/dashboard")[0]["args"][0]
    assert snap["exceptions"]["open"] == 1
    assert snap["exceptions"]["items"][0]["location"] == "A-01-01"
    boss.ok("post", f"/actions/exceptions/{exception_id}/resolve", {"resolution": "backorder"})
    update = _wait_for(socket, "update", lambda data: "exceptions" in data)
    assert update["exceptions"] == {"open": 0, "items": []}
    socket.disconnect("/dashboard")


def test_the_audit_log_is_append_only(boss, database):
    boss.ok("post", "/actions/pickers/picker/pause", {"reason": "break"})
    for statement in ("UPDATE audit_log SET reason = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as c:
            c.execute(text(statement))
    assert _audit(database) == [("supervisor", "pause_picker", "picker:picker", "break")]


def test_reprint_and_void_a_failed_label(app, client, login, boss, database):
    from wms.db.schema import PrintJob
    from wms.model import PrintJobState

    with database.write() as session:
        job = PrintJob(
            printer="zebra-1",
            document="shipping_label",
            zpl=b"^XA^XZ",
            state=PrintJobState.FAILED,
            last_error="paper out",
        )
        session.add(job)
        session.flush()
        job_id = job.id
    login(Role.SUPERVISOR)
    socket = socketio.test_client(app, namespace="/dashboard", flask_test_client=client)
    snap = socket.get_received("/dashboard")[0]["args"][0]
    assert snap["print_jobs"]["by_printer"] == {"zebra-1": {"failed": 1}}
    assert snap["print_jobs"]["failed"] == [
        {"id": job_id, "printer": "zebra-1", "error": "paper out"}
    ]
    socket.disconnect("/dashboard")

    again = boss.ok("post", f"/actions/print-jobs/{job_id}/reprint", {"reason": "paper loaded"})
    assert again["detail"]["printer"] == "zebra-1"
    voided = boss.ok("post", f"/actions/print-jobs/{job_id}/void", {"reason": "reprinted"})
    assert voided["detail"] == {"printer": "zebra-1", "state": "void"}
    assert boss.post(f"/actions/print-jobs/{job_id}/void", {}).status_code == 409
    assert boss.post("/actions/print-jobs/999999/reprint", {}).status_code == 404
    with database.read() as session:
        states = session.execute(select(PrintJob.id, PrintJob.state).order_by(PrintJob.id)).all()
        assert [s.value for _, s in states] == ["void", "queued"]
    assert [a[1:] for a in _audit(database)] == [
        ("reprint_label", f"print_job:{job_id}", "paper loaded"),
        ("void_label", f"print_job:{job_id}", "reprinted"),
    ]


def test_a_supervisor_pause_reaches_the_pickers_handheld_and_survives_a_reload(
    app, client, login, boss
):
    login(Role.PICKER)
    handheld = socketio.test_client(app, namespace="/handheld", flask_test_client=client)
    first = handheld.get_received("/handheld")
    assert first[0]["name"] == "snapshot" and first[0]["args"][0]["paused"] is False
    boss.ok("post", "/actions/pickers/picker/pause", {"reason": "first aid"})
    pushed = [m for m in handheld.get_received("/handheld") if m["name"] == "paused"]
    assert [m["args"][0] for m in pushed] == [{"paused": True}]
    handheld.disconnect("/handheld")
    # A reload comes back paused: the state is the scan log's, not the browser's.
    again = socketio.test_client(app, namespace="/handheld", flask_test_client=client)
    assert again.get_received("/handheld")[0]["args"][0]["paused"] is True
    boss.ok("post", "/actions/pickers/picker/pause", {"paused": False})
    pushed = [m for m in again.get_received("/handheld") if m["name"] == "paused"]
    assert [m["args"][0] for m in pushed] == [{"paused": False}]
    again.disconnect("/handheld")


def test_cancelling_one_task_reallocates_it_and_is_audited(app, erp, boss, database):
    receive(database, "MUG", "A-02-03", 10)  # a second place the line can be picked from
    code = _released(erp, boss, database, "T-1")
    task_id = _first_task(boss, code)
    with database.read() as session:
        cancelled_at = session.get_one(PickTask, task_id).location.code
    assert boss.post(f"/actions/tasks/{task_id}/cancel", {}).status_code == 422  # no reason
    done = boss.ok("post", f"/actions/tasks/{task_id}/cancel", {"reason": "rack damaged"})
    assert done["detail"] == {"released": 2, "reallocated": 2, "backordered": 0}
    assert done["target"] == f"task:{task_id}"
    again = boss.post(f"/actions/tasks/{task_id}/cancel", {"reason": "twice"})
    assert again.status_code == 409, again.get_json()
    assert boss.post("/actions/tasks/999999/cancel", {"reason": "x"}).status_code == 404
    with database.read() as session:
        open_tasks = session.scalars(
            select(PickTask).where(PickTask.status == TaskStatus.OPEN)
        ).all()
        [(quantity, place)] = [(t.quantity, t.location.code) for t in open_tasks]
    assert quantity == 2 and place != cancelled_at and place in ("A-01-01", "A-02-03")
    assert _audit(database)[-1][1:] == ("cancel_task", f"task:{task_id}", "rack damaged")
