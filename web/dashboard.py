"""The supervisor's floor dashboard: the page, and its Socket.IO namespace ``/dashboard``.

One hub per app computes the figures once for every watcher, like web/live.py does:

* on connect, the watcher gets ``snapshot`` (every panel);
* a background thread sends ``picks`` every ``TICK`` (0.25 s) when picks were confirmed since
  the last one (one indexed range query on the ledger: the live ticker, and what makes a pick
  show within a second);
* at most every ``PANEL_SECONDS`` (2 s; longer if one round took more than 2 % of that
  time: the gap is 50 times the last round's CPU time), when a cheap change marker moved,
  it recomputes the panels (orders, waves, pickers, exceptions, devices, print queue,
  audit) and sends ``update`` with only the panels that differ; the KPIs of the last hour
  and the shift's throughput series are recomputed every ``SLOW_SECONDS`` (10 s);
* an action from the dashboard (web/api/actions.py) calls :func:`poke`: the panels are
  recomputed at the next tick instead of waiting for PANEL_SECONDS.

The thread runs only while someone watches. The work does not grow with the number of
dashboards, nor with the pick rate: under a busy floor it is one small query per tick and one
panel computation every few seconds. (Measured first with every panel every 0.5 s: under 200 pickers
the recomputation competed with the scans for the one process's GIL; see docs/dashboard.md.)
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from typing import Any, cast

from flask import Blueprint, Flask, current_app, render_template
from flask_login import current_user
from flask_socketio import Namespace, emit, join_room

from web.extensions import get_settings, socketio
from web.security import roles_required
from web.server import gevent_patched, off_the_loop
from wms import audit, floor_state
from wms.db import Database
from wms.kpis import floor_kpis
from wms.model import Role

NAMESPACE = "/dashboard"
ROOM = "dashboard"
TICK = 0.25
PANEL_SECONDS = 2.0
# The panels' round may cost at most 1/50 (2 %) of the server process's time. On SQLite the
# writers take turns on one lock, and CPU spent here (under the GIL) stretches each turn: a
# 5 % budget (75 ms rounds every 2 s under 200 pickers) still showed in the scans' latency.
BUDGET_SHARE = 50.0
REPORT_SECONDS = 15.0  # how often the server log says what the dashboards cost
SLOW_SECONDS = 10.0
SHIFT_HOURS = 8
CHART_BUCKET_MINUTES = 15
_WATCH_ROLES = {Role.SUPERVISOR, Role.ADMIN}
log = logging.getLogger(__name__)

blueprint = Blueprint("dashboard", __name__)


@blueprint.route("/dashboard")
@roles_required(Role.SUPERVISOR)
def page() -> Any:
    """The floor dashboard (large screen or laptop); it fills itself over Socket.IO."""
    return render_template("pages/dashboard.html", site_name=get_settings().site_name)


class DashboardHub:
    """The figures of one app, computed once for all its dashboards."""

    def __init__(self, app: Flask, db: Database) -> None:
        self._app = app
        self._db = db
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._panel_round_running = False
        self._watchers = 0
        self._running = False
        self._panels: dict[str, Any] = {}
        self._marker: tuple[Any, ...] | None = None
        self._last_pick = -1
        self._recent: list[dict[str, Any]] = []
        self._slow_at = 0.0
        self._panels_at = 0.0
        self._panel_gap = PANEL_SECONDS
        self._poked = False
        self.tick = float(app.config.get("WMS_DASHBOARD_TICK", TICK))
        self.panel_seconds = float(app.config.get("WMS_DASHBOARD_PANEL_SECONDS", PANEL_SECONDS))
        #: CPU time of the last panel rounds (ms), newest last.
        self.compute_ms: list[float] = []

    # --- figures ------------------------------------------------------------------------

    def _devices(self) -> dict[str, Any]:
        manager = self._app.extensions.get("wms_devices")
        if manager is None:
            return {"configured": False, "items": []}
        try:
            health = manager.health()
        except Exception as error:  # noqa: BLE001 - a broken manager must not stop the board
            log.warning("device health failed: %s", error)
            return {"configured": True, "items": [], "error": str(error)}
        return {"configured": True, "items": [h.as_dict() for h in health]}

    def _slow(self, now: dt.datetime) -> dict[str, Any]:
        with self._db.read() as session:
            hour = floor_kpis(session, now - dt.timedelta(hours=1), now)
            shift_start = (now - dt.timedelta(hours=SHIFT_HOURS)).replace(
                minute=0, second=0, microsecond=0
            )
            shift = floor_kpis(session, shift_start, now, bucket_minutes=CHART_BUCKET_MINUTES)
            # The scan log has no index for this; it changes with an action (which forces
            # this slow part) or a handheld's own Pause button (seen within SLOW_SECONDS).
            paused = floor_state.paused_pickers(session, now)
        return {
            "kpis": {
                "picks_per_hour": hour.total.picks_per_hour,
                "lines_per_hour": hour.total.lines_per_hour,
                "wrong_scans_per_100_picks": hour.wrong_scans_per_100_picks,
                "short_pick_rate_percent": hour.short_pick_rate_percent,
                "release_to_packed_minutes": shift.release_to_packed.median_minutes,
                "release_to_shipped_minutes": shift.release_to_shipped.median_minutes,
                "picks_shift": shift.total.picks,
            },
            "zones": [
                {"code": z.code, "name": z.name, "picks_per_hour": z.rate.picks_per_hour}
                for z in hour.by_zone
            ],
            "chart": {
                "bucket_minutes": CHART_BUCKET_MINUTES,
                "labels": [b.start.isoformat() for b in shift.by_hour],
                "picks": [b.picks for b in shift.by_hour],
                "units": [b.units for b in shift.by_hour],
            },
            "_picks_last_hour": {p.username: p.rate.picks for p in hour.by_picker},
            "_paused": paused,
        }

    def _fast(
        self, now: dt.datetime, picks_last_hour: dict[str, int], paused: dict[int, bool]
    ) -> dict[str, Any]:
        at_risk = 60
        settings = self._app.extensions.get("wms_settings")
        dashboard = getattr(settings, "dashboard", None)
        if dashboard is not None:
            at_risk = int(getattr(dashboard, "at_risk_minutes", at_risk))
        with self._db.read() as session:
            panels = {
                "orders": floor_state.orders_panel(session, now, at_risk),
                "waves": floor_state.waves_panel(session),
                "pickers": floor_state.pickers_panel(session, picks_last_hour, paused),
                "exceptions": floor_state.exceptions_panel(session),
                "print_jobs": floor_state.print_jobs_panel(session),
                "audit": [a.as_dict() for a in audit.recent_actions(session, limit=8)],
            }
        panels["devices"] = self._devices()
        panels["print_jobs"]["printers"] = self._printers()
        return panels

    def _printers(self) -> list[dict[str, Any]]:
        """Each configured printer as its sender last saw it (~HS): red when it cannot print."""
        spooler = self._app.extensions.get("wms_spooler")
        if spooler is None:
            return []
        views = (spooler.view(name) for name in sorted(spooler.senders))
        return [
            {"name": v.name, "state": v.state, "message": v.message, "can_print": v.can_print}
            for v in views
        ]

    def compute(self, *, force_slow: bool = False) -> dict[str, Any]:
        """Recompute the panels that are due; return every panel."""
        now = dt.datetime.now(dt.UTC)
        panels = dict(self._panels)
        if force_slow or time.monotonic() - self._slow_at >= SLOW_SECONDS or not panels:
            panels.update(self._slow(now))
            self._slow_at = time.monotonic()
        panels.update(
            self._fast(now, panels.get("_picks_last_hour", {}), panels.get("_paused", {}))
        )
        panels["at"] = now.isoformat()
        return panels

    def _new_picks(self) -> list[dict[str, Any]]:
        with self._db.read() as session:
            if self._last_pick < 0:
                self._last_pick = max(0, floor_state.last_pick_id(session) - 20)
            picks = floor_state.picks_since(session, self._last_pick)
        if picks:
            self._last_pick = picks[-1]["id"]
            self._recent = (self._recent + picks)[-20:]
        return picks

    def snapshot(self) -> dict[str, Any]:
        """Every panel, for a watcher that just connected."""
        with self._lock:
            if not self._panels:
                self._new_picks()
                self._panels = off_the_loop(lambda: self.compute(force_slow=True))
            data = _public(self._panels)
            data["recent_picks"] = list(self._recent)
            data["tick_seconds"] = self.tick
        return data

    # --- watchers and the push thread ----------------------------------------------------

    def watch(self) -> None:
        """One more watcher; start the push thread if it is not running."""
        with self._lock:
            self._watchers += 1
            if self._running:
                return
            self._running = True
        socketio.start_background_task(self._run)

    def unwatch(self) -> None:
        """One watcher less; the thread stops when nobody watches."""
        with self._lock:
            self._watchers = max(0, self._watchers - 1)
            if self._watchers == 0:
                self._wake.set()

    def poke(self) -> None:
        """Something changed (an action): recompute the panels at the next possible moment."""
        self._poked = True
        self._wake.set()

    def picked(self) -> None:
        """A pick was confirmed: send the ticker now rather than at the end of the tick."""
        self._wake.set()

    def _run(self) -> None:
        last_push = last_report = 0.0
        while True:
            self._wake.wait(self.tick)
            self._wake.clear()
            with self._lock:
                if self._watchers == 0:
                    self._running = False
                    self._panels = {}  # stale once nobody watches; rebuilt on next connect
                    self._marker = None
                    return
            wait = self.tick - (time.monotonic() - last_push)
            if wait > 0:
                time.sleep(wait)  # throttle: never more than one push per tick
            try:
                self._push()
            except Exception:  # noqa: BLE001 - a failed round must not stop the dashboards
                log.exception("dashboard refresh failed")
            last_push = time.monotonic()
            if last_push - last_report >= REPORT_SECONDS and self.compute_ms:
                last_report = last_push
                rounds = sorted(self.compute_ms)
                log.info(
                    "dashboard: %d watcher(s); panel rounds %.0f ms CPU median, %.0f ms max "
                    "(last %d); next round after %.1f s",
                    self._watchers,
                    rounds[len(rounds) // 2],
                    rounds[-1],
                    len(rounds),
                    self._panel_gap,
                )

    def _push(self) -> None:
        # The ticker first: one indexed range query, every tick.
        with self._lock:
            picks = self._new_picks()
        if picks:
            socketio.emit("picks", picks, namespace=NAMESPACE, to=ROOM)
        now = time.monotonic()
        if not self._poked and now - self._panels_at < self._panel_gap:
            return
        # The panels take a fifth of a second of CPU and more: on their own thread, so the
        # next ticks' picks never wait behind them.
        with self._lock:
            if self._panel_round_running:
                return
            self._panel_round_running = True
        socketio.start_background_task(self._panel_round)

    def _panel_round(self) -> None:
        try:
            self._refresh_panels()
        except Exception:  # noqa: BLE001 - a failed round must not stop the dashboards
            log.exception("dashboard panels failed")
        finally:
            with self._lock:
                self._panel_round_running = False

    def _refresh_panels(self) -> None:
        now = time.monotonic()
        poked, self._poked = self._poked, False
        slow_due = now - self._slow_at >= SLOW_SECONDS
        with self._db.read() as session:
            marker = floor_state.change_marker(session)
        if marker == self._marker and not slow_due:
            return
        self._marker = marker

        def timed_compute() -> tuple[dict[str, Any], float]:
            started = time.thread_time()  # this thread's CPU: what the round costs the process
            panels = self.compute(force_slow=poked)
            return panels, time.thread_time() - started

        started = time.thread_time()
        panels, spent = off_the_loop(timed_compute)
        with self._lock:
            changed = {
                key: value
                for key, value in _public(panels).items()
                if key != "at" and _json(value) != _json(self._panels.get(key))
            }
            self._panels = panels
        if changed:
            changed["at"] = panels["at"]
            socketio.emit("update", changed, namespace=NAMESPACE, to=ROOM)
        # Self-limiting: the panels (computing, comparing, sending) may take at most
        # 1/BUDGET_SHARE of the process; a slower round waits longer before the next.
        if not gevent_patched():  # under gevent this thread also runs the sockets
            spent = time.thread_time() - started
        self.compute_ms.append(spent * 1000.0)
        del self.compute_ms[:-100]
        self._panels_at = time.monotonic()
        self._panel_gap = max(self.panel_seconds, spent * BUDGET_SHARE)


def _public(panels: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in panels.items() if not k.startswith("_")}


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


class DashboardNamespace(Namespace):
    """Supervisors (and admins) watch the floor here."""

    def __init__(self, hub: DashboardHub) -> None:
        super().__init__(NAMESPACE)
        self._hub = hub

    def on_connect(self, auth: Any = None) -> bool:
        """Refuse anyone but supervisors; send the snapshot at once."""
        if not current_user.is_authenticated or current_user.role not in _WATCH_ROLES:
            return False
        join_room(ROOM)
        emit("snapshot", self._hub.snapshot())
        self._hub.watch()
        return True

    def on_disconnect(self, reason: Any = None) -> None:
        """Count the watcher out."""
        self._hub.unwatch()


def hub() -> DashboardHub:
    """The current app's dashboard hub."""
    return cast(DashboardHub, current_app.extensions["wms_dashboard"])


def poke() -> None:
    """Wake the current app's dashboards now (after an action)."""
    found = current_app.extensions.get("wms_dashboard")
    if found is not None:
        found.poke()


def init_dashboard(app: Flask, db: Database) -> None:
    """Register the page and the namespace."""
    board = DashboardHub(app, db)
    app.extensions["wms_dashboard"] = board
    app.register_blueprint(blueprint)
    socketio.on_namespace(DashboardNamespace(board))
