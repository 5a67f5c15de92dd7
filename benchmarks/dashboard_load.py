"""Dashboard load: 20 floor dashboards watching while 200 simulated pickers work one server.

Usage::

    python benchmarks/dashboard_load.py [--pickers 200] [--dashboards 20] [--speed 4]
                                        [--duration 30] [--warmup 5] [--orders 6000]

All on 127.0.0.1 in a scratch directory removed at the end:

1. The scratch site of benchmarks/handheld_load.py (``build_site``: demo data, every order
   allocated and released into cluster carts, replenishments done, one badge-only picker per
   simulated handheld) plus one supervisor for the dashboards.
2. ONE server: ``python -m web.cli --config <tmp> serve`` (gunicorn, one worker: gevent as
   ``wms serve``, or ``--worker gthread``).
3. Run A, no dashboards: ``--pickers`` virtual pickers of ``wms simulate`` (web/simulate/,
   real python-socketio handhelds signed in by badge) at ``--speed`` (walk 12 s and scans 2 s
   divided by it), spread over client processes, for ``--warmup`` + ``--duration`` seconds.
4. Run B, the same with ``--dashboards`` supervisors connected to ``/dashboard`` (each its own
   signed-in session and websocket), recording when each pick reaches each dashboard.

Figures (scans sent in the measuring window):

* ``scan p50/p99 ms``: a handheld's ``scan`` round trip, A and B, and B's change in % of A;
* ``picks/s``: picks confirmed per second; ``srv CPU %``: the server process over the window,
  in % of one core; ``other CPU %``: every other process on the machine (other jobs too);
* ``dashboard p50/p99/max ms``: event-to-dashboard latency, for every (pick, dashboard) pair:
  from the pick's row in the ledger (``movement.created_at``, written in the pick's
  transaction) to the ``picks`` event arriving at the dashboard; ``missed`` counts pairs that
  never arrived. Also from the handheld's answer to the dashboard (can be earlier than 0:
  a push may overtake the handheld's own answer);
* ``updates/s``: ``update`` events per dashboard per second (the throttle is one per tick).
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import handheld_load as base  # noqa: E402  (the scratch site, the server and /proc helpers)

DASH_USER, DASH_PASSWORD = "dashboss", "dashboard-load-pw"
USER_AGENT = "wms-dashboard-load/1.0"


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


# --------------------------------------------------------------------------- pickers


def picker_process(
    spec: dict[str, Any], badges: list[str], ready: Any, go: Any, times: Any, results: Any
) -> None:
    """A client process: its share of virtual pickers, signed in, then working until the end
    of the run (set by the parent once every process is ready); tallies back."""
    import logging

    from web.simulate import Simulation, SimulationOptions

    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)
    logging.getLogger("socketio.client").setLevel(logging.CRITICAL)
    gtins: dict[str, str] = spec["gtins"]
    options = SimulationOptions(
        url=spec["url"],
        badges=tuple(badges),
        speed=spec["speed"],
        wrong_scan_rate=spec["wrong_scan_rate"],
        short_rate=spec["short_rate"],
        timeout=15.0,
        seed=spec["seed"],
    )
    simulation = Simulation(options, lambda sku, unit: gtins.get(sku))
    simulation.start()  # returns once all have signed in; they start working at once
    ready.put(os.getpid())
    go.wait()
    simulation.run_for(max(0.0, times[1] - time.time()))
    measure_from = times[0]
    scans: list[float] = []
    picks: list[tuple[str, float]] = []
    for picker in simulation.pickers:
        scans.extend(ms for sent, ms in picker.tally.scan_times if sent >= measure_from)
        picks.extend((cid, at) for cid, at, _ms in picker.tally.pick_times if at >= measure_from)
    results.put(
        {"scans": scans, "picks": picks, "summary": simulation.summary(), "pid": os.getpid()}
    )


# --------------------------------------------------------------------------- dashboards


class Dashboard:
    """One supervisor's dashboard: a signed-in session and the /dashboard websocket."""

    def __init__(self, url: str) -> None:
        import requests
        import socketio

        self.url = url
        self.http = requests.Session()
        self.http.headers["User-Agent"] = USER_AGENT
        self.sio = socketio.Client(http_session=self.http, reconnection=False)
        self.arrivals: dict[str, float] = {}  # scan id -> first arrival
        self.ledger_at: dict[str, float] = {}  # scan id -> movement.created_at
        self.updates = 0
        self.snapshots = 0
        self.lock = threading.Lock()
        self.sio.on("picks", self._picks, namespace="/dashboard")
        self.sio.on("update", self._update, namespace="/dashboard")
        self.sio.on("snapshot", self._snapshot, namespace="/dashboard")

    def _picks(self, picks: Any) -> None:
        now = time.time()
        with self.lock:
            for pick in picks:
                scan_id = pick.get("scan_id")
                if scan_id and scan_id not in self.arrivals:
                    self.arrivals[scan_id] = now
                    at = dt.datetime.fromisoformat(pick["at"])
                    self.ledger_at[scan_id] = at.timestamp()

    def _update(self, data: Any) -> None:
        with self.lock:
            self.updates += 1

    def _snapshot(self, data: Any) -> None:
        self.snapshots += 1

    def connect(self) -> None:
        page = self.http.get(f"{self.url}/login", timeout=15)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        assert token is not None, "no CSRF token on /login"
        answer = self.http.post(
            f"{self.url}/login",
            data={"csrf_token": token.group(1), "username": DASH_USER, "password": DASH_PASSWORD},
            allow_redirects=False,
            timeout=15,
        )
        assert answer.status_code in (302, 303), answer.status_code
        self.sio.connect(
            self.url,
            namespaces=["/dashboard"],
            transports=["websocket"],
            headers={"User-Agent": USER_AGENT},
            wait_timeout=15,
        )

    def close(self) -> None:
        try:
            self.sio.disconnect()
        finally:
            self.http.close()


# --------------------------------------------------------------------------- one run


def run(
    args: argparse.Namespace, site: Any, server: Any, dashboards: int, badges: list[str]
) -> dict[str, Any]:
    """One run: pickers (and dashboards) for warmup + duration; the figures."""
    boards = [Dashboard(server_url(server)) for _ in range(dashboards)]
    for board in boards:
        board.connect()
    spec = {
        "url": server_url(server),
        "gtins": site.gtins,
        "speed": args.speed,
        "wrong_scan_rate": args.wrong_scan_rate,
        "short_rate": args.short_rate,
        "seed": args.seed,
    }
    results: Any = mp.Queue()
    ready: Any = mp.Queue()
    go = mp.Event()
    times = mp.Array("d", 2)
    share = max(1, -(-len(badges) // args.client_processes))
    processes = [
        mp.Process(
            target=picker_process, args=(spec, badges[i : i + share], ready, go, times, results)
        )
        for i in range(0, len(badges), share)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        ready.get(timeout=300)  # every picker signed in and connected
    measure_from = time.time() + args.warmup
    end = measure_from + args.duration
    times[0], times[1] = measure_from, end
    go.set()
    while time.time() < measure_from:
        time.sleep(0.05)
    server_pids = server.pids()
    client_pids = [p.pid for p in processes if p.pid]
    cpu0 = sum(base._cpu_ticks(pid) for pid in server_pids)
    cli0 = sum(base._cpu_ticks(pid) for pid in client_pids)
    host0 = base._host_ticks()
    updates0 = sum(b.updates for b in boards)
    t0 = time.time()
    while time.time() < end:
        time.sleep(0.2)
    elapsed = time.time() - t0
    cpu = (sum(base._cpu_ticks(pid) for pid in server_pids) - cpu0) / base.CLK_TCK
    cli = (sum(base._cpu_ticks(pid) for pid in client_pids) - cli0) / base.CLK_TCK
    host = (base._host_ticks() - host0) / base.CLK_TCK
    updates = sum(b.updates for b in boards) - updates0
    collected = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    time.sleep(2.0)  # the last picks' pushes
    for board in boards:
        board.close()

    scans = [ms for c in collected for ms in c["scans"]]
    picks = [p for c in collected for p in c["picks"]]
    figures: dict[str, Any] = {
        "dashboards": dashboards,
        "pickers": len(badges),
        "scans": len(scans),
        "scan_p50": _pct(scans, 0.50),
        "scan_p99": _pct(scans, 0.99),
        "picks": len(picks),
        "picks_per_s": len(picks) / elapsed,
        "server_cpu": 100.0 * cpu / elapsed,
        "client_cpu": 100.0 * cli / elapsed,
        "other_cpu": 100.0 * max(0.0, host - cpu - cli) / elapsed,
        "errors": {},
        "refused": {},
        "carts": sum(c["summary"]["batches"] for c in collected),
        "updates_per_s": updates / elapsed / dashboards if dashboards else 0.0,
    }
    for c in collected:
        for key, n in c["summary"]["errors"].items():
            figures["errors"][key] = figures["errors"].get(key, 0) + n
        for key, n in c["summary"]["refused"].items():
            figures["refused"][key] = figures["refused"].get(key, 0) + n
    if dashboards:
        from_ledger: list[float] = []
        from_answer: list[float] = []
        missed = 0
        for board in boards:
            for scan_id, answered in picks:
                arrived = board.arrivals.get(scan_id)
                if arrived is None:
                    missed += 1
                    continue
                from_ledger.append((arrived - board.ledger_at[scan_id]) * 1000.0)
                from_answer.append((arrived - answered) * 1000.0)
        figures.update(
            {
                "dash_p50": _pct(from_ledger, 0.50),
                "dash_p99": _pct(from_ledger, 0.99),
                "dash_max": max(from_ledger) if from_ledger else float("nan"),
                "dash_answer_p50": _pct(from_answer, 0.50),
                "dash_answer_p99": _pct(from_answer, 0.99),
                "pairs": len(from_ledger),
                "missed": missed,
            }
        )
    return figures


def server_url(server: Any) -> str:
    return f"http://{base.HOST}:{server.port}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pickers", type=int, default=200)
    parser.add_argument("--dashboards", type=int, default=20)
    parser.add_argument("--speed", type=float, default=4.0, help="simulator time factor")
    parser.add_argument("--wrong-scan-rate", type=float, default=0.03)
    parser.add_argument("--short-rate", type=float, default=0.0, help="shorts change the work")
    parser.add_argument("--duration", type=float, default=30.0, help="measuring window, s")
    parser.add_argument("--warmup", type=float, default=10.0, help="unmeasured start, s")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--orders", type=int, default=6000, help="B2C orders in the demo")
    parser.add_argument("--locations", type=int, default=3000)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--order", default="AB", help="run order: AB (no dashboards first) or BA")
    parser.add_argument(
        "--worker", choices=("gevent", "gthread"), default="gevent", help="server.worker"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="wms-dashboard-load-"))
    server = None
    try:
        threads = args.pickers * 2 + args.dashboards + 50
        print(f"building the site in {workdir} ...", flush=True)
        site = base.build_site(workdir, args, args.pickers * 2, threads)
        from wms.access import NewUser, create_user
        from wms.db import Database
        from wms.model import Role

        db = Database(site.database_url)
        with db.write() as session:
            create_user(
                session, NewUser(DASH_USER, "Dashboard load", Role.SUPERVISOR, DASH_PASSWORD)
            )
        db.dispose()
        print(
            f"site: {site.batches} carts, {site.tasks} pick tasks, built in "
            f"{site.build_seconds:.0f} s",
            flush=True,
        )
        port = base._free_port()
        command = [sys.executable, "-m", "web.cli", "--config", str(site.config), "serve"]
        command += ["--port", str(port)]
        server = base.Server("wms server", command, port, workdir / "server.log")
        server.wait_ready()
        # Each run has its own pickers, so that run B does not start with A's half-done carts.
        first, second = site.badges[: args.pickers], site.badges[args.pickers :]
        plan = {"A": 0, "B": args.dashboards}
        results = {}
        for name, badges in zip(args.order, (first, second), strict=True):
            print(f"run {name}: {args.pickers} pickers, {plan[name]} dashboards ...", flush=True)
            results[name] = run(args, site, server, plan[name], badges)
        report(args, results)
        costs = [
            line.split("dashboard: ", 1)[1]
            for line in (workdir / "server.log").read_text(errors="replace").splitlines()
            if "dashboard: " in line
        ]
        if costs:
            print(f"server's own account of the dashboard work: {costs[-1]}")
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


def report(args: argparse.Namespace, results: dict[str, dict[str, Any]]) -> None:
    a, b = results["A"], results["B"]
    print()
    print(f"{args.pickers} pickers at speed x{args.speed:g}, {args.duration:.0f} s measured")
    print(
        f"{'run':<22}{'scans':>7}{'p50 ms':>9}{'p99 ms':>9}{'picks/s':>9}"
        f"{'srv CPU %':>11}{'cli CPU %':>11}{'other CPU %':>13}"
    )
    for label, r in (("A no dashboards", a), (f"B {b['dashboards']} dashboards", b)):
        print(
            f"{label:<22}{r['scans']:>7}{r['scan_p50']:>9.1f}{r['scan_p99']:>9.1f}"
            f"{r['picks_per_s']:>9.1f}{r['server_cpu']:>11.0f}{r['client_cpu']:>11.0f}"
            f"{r['other_cpu']:>13.0f}"
        )
    change = 100.0 * (b["scan_p99"] - a["scan_p99"]) / a["scan_p99"] if a["scan_p99"] else 0.0
    print(f"scan p99 with dashboards vs without: {change:+.1f} %  (aim: < +20 %)")
    print(
        f"event-to-dashboard latency (pick's ledger row -> dashboard): p50 {b['dash_p50']:.0f} ms,"
        f" p99 {b['dash_p99']:.0f} ms, max {b['dash_max']:.0f} ms over {b['pairs']} "
        f"pick x dashboard pairs, missed {b['missed']}  (aim: p99 < 1000 ms)"
    )
    print(
        f"handheld's answer -> dashboard: p50 {b['dash_answer_p50']:.0f} ms, "
        f"p99 {b['dash_answer_p99']:.0f} ms; updates per dashboard per s: "
        f"{b['updates_per_s']:.2f}"
    )
    for label, r in (("A", a), ("B", b)):
        print(f"run {label}: carts taken {r['carts']}, refused scans {r['refused']}")
        if r["errors"]:
            print(f"errors in {label}: {r['errors']}")


if __name__ == "__main__":
    mp.set_start_method("spawn", force=True)
    raise SystemExit(main())
