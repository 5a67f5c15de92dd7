"""Handheld load: real Socket.IO clients scanning against one server process, and the echo ceiling.

Usage::

    python benchmarks/handheld_load.py [--levels 50,200,500] [--duration 30] [--interval 2]
                                       [--saturation-clients 50] [--echo-clients 50] [--profile]

What it does, all on 127.0.0.1 and in a scratch directory removed at the end:

1. Builds a demo warehouse in a fresh SQLite file (``wms.demo.generate_demo`` without B2B
   orders), allocates every order, plans and releases every wave into cluster carts, completes
   the replenishments the release asked for (so no pick waits), and creates one badge-only
   picker per simulated handheld (``LOAD-0001``...; no password, so no scrypt). The unit GTIN
   of every SKU is read into a dict for the clients.
2. Starts ONE server: ``python -m web.cli --config <tmp> serve`` (gunicorn, one worker: gevent
   as `wms serve` by default, ``--worker gthread`` with ``server.threads`` = the most clients
   + 50). By default it is started through a small bootstrap in this file that patches for
   gevent first, as `wms serve` does, and wraps ``HandheldNamespace.trigger_event`` with a
   timer (the server's code is not changed); ``--no-server-timing`` starts the plain command.
3. For each level: N handhelds, spread over several client processes (one thread per
   handheld), sign in (``GET``/``POST /badge``, same User-Agent as the socket, because the
   app uses Flask-Login's "strong" session protection), connect to ``/handheld`` over the
   websocket transport only, ``take_batch``, then loop: bind totes, scan the location, the
   item's unit GTIN (as many times as the quantity), the tote, following the step in each
   answer's snapshot; a finished cart is followed by ``take_batch``. Each handheld scans every
   ``--interval`` seconds (+/- ``--jitter``), waiting for the answer first, as a real one does;
   an answer later than ``--timeout`` (8 s, as handheld.js) counts as an error and the scan is
   resent under the same ``client_id``, as the handheld's outbox does.
4. Saturation: ``--saturation-clients`` handhelds scanning back-to-back (no wait).
5. Echo ceiling: a bare Flask-SocketIO app defined in this file (namespace ``/handheld``, an
   ``echo`` event answering its payload), served by ``web.server.run`` under the WMS
   server's worker, driven back-to-back by the same harness with ``--echo-clients``.
   Saturation and echo windows alternate for ``--rounds`` pairs (both servers up, one idle
   while the other is driven), and the aim's ratio is the median of the pairs' ratios: this
   machine's speed drifts by tens of percent within minutes. Then one echo window under the
   other worker.

Figures, for scans sent in the measuring window (after ``--warmup`` seconds):

* ``p50``/``p99 ms``: client round trip, ``call('scan')`` to its acknowledgement. On loopback
  this is the server's time plus the client's own scheduling (the clients share the cores);
* ``hdl p50``/``hdl p99``: time inside the server's event handler (``trigger_event``: user
  load, validation, the write transaction, the snapshot), from the bootstrap's timer; the rest
  of the round trip is the websocket/Socket.IO stack, thread hand-offs and the client;
* ``srv CPU %``: CPU of the server process (both gunicorn processes) over the window, in % of
  one core; ``RSS MB`` and ``threads``: the worker's peak resident memory and thread count in
  the window (sampled every second); ``cli CPU %``: the client processes; ``other CPU %``:
  every other process on the machine (other jobs sharing the cores), all in % of one core, so
  the figures can be read against the load;
* ``server full GCs`` (under the table): the worker's full (generation 2) collections in the
  window, from the bootstrap's ``gc.callbacks``: each stops every socket while it runs;
* ``errors``: exceptions and timeouts (a refused scan is an answer, not an error; refusals are
  listed by reason under the table).

``--profile`` also samples the server with py-spy (``pip install py-spy``) during each WMS run
and prints where the worker's time goes; profiled runs are slower, measure without it.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import math
import multiprocessing as mp
import os
import queue
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

NAMESPACE = "/handheld"
USER_AGENT = "wms-handheld-load/1.0"
HOST = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")
CLIENTS_PER_PROCESS = 125


# --------------------------------------------------------------------------- server bootstraps


def _serve_echo(port: int, threads: int, worker: str) -> None:
    """The bare ceiling: Flask-SocketIO, one echo event, served like `wms serve` with ``worker``."""
    from web.server import patch_for_gevent, run

    if worker == "gevent":
        patch_for_gevent()  # as `wms serve` does, before the app is built
    from flask import Flask
    from flask_socketio import SocketIO

    app = Flask("echo")
    app.config["SECRET_KEY"] = secrets.token_hex(16)
    sio = SocketIO(app, async_mode="gevent" if worker == "gevent" else "threading")

    @sio.on("connect", namespace=NAMESPACE)
    def _connect(auth: Any = None) -> bool:
        return True

    @sio.on("echo", namespace=NAMESPACE)
    def _echo(data: Any) -> Any:
        return data

    run(app, HOST, port, threads)


def _serve_timed(timing_file: str, worker: str, cli_args: list[str]) -> None:
    """`wms <cli_args>` with a timer around every /handheld event handler (no code changed).

    Samples go to ``timing_file`` as "wall-clock event milliseconds" lines, flushed twice a
    second by a thread of the gunicorn worker (started in the worker, after the fork).
    """
    if worker == "gevent":
        # Before the app's modules are imported, as `wms serve` does: a module imported
        # first keeps the blocking primitives it bound (the scan writer's threading.Event).
        from web.server import patch_for_gevent

        patch_for_gevent()
    from web import cli
    from web.handheld_socket import HandheldNamespace

    samples: list[tuple[float, str, float]] = []
    started = {"pid": 0}
    lock = threading.Lock()

    def flush_forever() -> None:
        while True:
            time.sleep(0.5)
            with lock:
                batch = samples[:]
                del samples[:]
            if batch:
                with open(timing_file, "a", encoding="utf-8") as out:
                    out.writelines(f"{w:.6f} {e} {ms:.4f}\n" for w, e, ms in batch)

    original = HandheldNamespace.trigger_event

    def timed(self: Any, event: str, *args: Any) -> Any:
        if started["pid"] != os.getpid():
            with lock:
                if started["pid"] != os.getpid():
                    started["pid"] = os.getpid()
                    threading.Thread(target=flush_forever, daemon=True).start()
        t0 = time.perf_counter()
        try:
            return original(self, event, *args)
        finally:
            elapsed = (time.perf_counter() - t0) * 1000.0
            samples.append((time.time(), event, elapsed))

    # The cycle collector's full collections stop every socket while they run: each one is
    # recorded too ("gc2" lines), so that a latency tail can be read against them.
    gc_started = {"at": 0.0}

    def gc_timer(phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            gc_started["at"] = time.perf_counter()
        else:
            samples.append((time.time(), "gc2", (time.perf_counter() - gc_started["at"]) * 1e3))

    gc.callbacks.append(gc_timer)
    HandheldNamespace.trigger_event = timed
    cli.main(args=cli_args, prog_name="wms")


# --------------------------------------------------------------------------- scratch site


@dataclass
class Site:
    """The scratch warehouse: database, config and what the clients need to know."""

    workdir: Path
    database_url: str
    config: Path
    badges: list[str]
    gtins: dict[str, str]
    batches: int
    tasks: int
    build_seconds: float
    notes: list[str] = field(default_factory=list)


def build_site(workdir: Path, args: argparse.Namespace, users: int, threads: int) -> Site:
    """Demo data, every order allocated and released into carts, one badge-only picker each."""
    import yaml
    from sqlalchemy import func, select

    from wms.access import NewUser, create_user
    from wms.allocation import allocate_orders
    from wms.db import Database
    from wms.db.migrate import upgrade
    from wms.db.schema import Item, ItemGtin, Order, PickBatch, PickTask, ReplenishmentTask
    from wms.demo import generate_demo
    from wms.model import OrderStatus, Role, TaskStatus
    from wms.picks import complete_replenishment
    from wms.release import ReleaseOptions, plan_waves, release_wave

    started = time.perf_counter()
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    database_url = f"sqlite:///{workdir / 'load.sqlite3'}"
    config["database"]["url"] = database_url
    config["server"].update(
        {
            "host": HOST,
            "port": 5000,
            "threads": threads,
            "worker": getattr(args, "worker", "gevent"),
            "secret_key": secrets.token_hex(24),
        }
    )
    config["devices"], config["printers"] = [], []
    config_path = workdir / "config.yaml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    picking = config["picking"]
    options = ReleaseOptions(
        picking["totes_per_cart"], picking["tote_max_units"], picking.get("one_way_aisles") or {}
    )

    upgrade(database_url)
    db = Database(database_url)
    try:
        generate_demo(
            db,
            seed=args.seed,
            pick_locations=args.locations,
            items=args.items,
            b2c_orders=args.orders,
            b2b_orders=0,
            gs1_company_prefix=str(config["labels"]["gs1_company_prefix"]),
        )
        with db.write() as session:
            orders = list(
                session.scalars(
                    select(Order).where(Order.status == OrderStatus.RECEIVED).order_by(Order.id)
                )
            )
            allocate_orders(session, orders)
        with db.write() as session:
            for wave in plan_waves(session):
                release_wave(session, wave.code, options=options)
        with db.write() as session:
            open_ids = session.scalars(
                select(ReplenishmentTask.id).where(ReplenishmentTask.status == TaskStatus.OPEN)
            ).all()
            for task_id in open_ids:
                complete_replenishment(session, task_id)
        badges = [f"LOAD-{i:04d}" for i in range(1, users + 1)]
        with db.write() as session:
            for i, badge in enumerate(badges, start=1):
                create_user(
                    session,
                    NewUser(f"load{i:04d}", f"Load picker {i}", Role.PICKER, None, badge, "en"),
                )
        with db.read() as session:
            gtins = dict(
                session.execute(
                    select(Item.sku, func.min(ItemGtin.gtin))
                    .join(ItemGtin, ItemGtin.item_id == Item.id)
                    .where(ItemGtin.pack_quantity == 1)
                    .group_by(Item.sku)
                ).all()
            )
            batches = int(session.scalar(select(func.count()).select_from(PickBatch)) or 0)
            tasks = int(session.scalar(select(func.count()).select_from(PickTask)) or 0)
    finally:
        db.dispose()
    site = Site(
        workdir,
        database_url,
        config_path,
        badges,
        gtins,
        batches,
        tasks,
        time.perf_counter() - started,
    )
    site.notes.append(f"{len(open_ids)} replenishments completed before the run")
    return site


# --------------------------------------------------------------------------- process helpers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                text = Path(f"/proc/{pid}/task/{task}/children").read_text()
                found.extend(int(p) for p in text.split())
    return found


def _cpu_ticks(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _memory_threads(pid: int) -> tuple[float, int]:
    """Resident memory (MB) and thread count of a process."""
    rss, threads = 0.0, 0
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024.0
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, threads


def _host_ticks() -> int:
    """Busy ticks of the whole machine, all CPUs (guest time is already in user)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:8]]
    return sum(values) - values[3] - values[4]  # minus idle and iowait


def _death_signal() -> Any:
    """A pre-exec hook: the child gets SIGTERM when the benchmark dies, even by SIGKILL."""
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here, not after the fork
    except (OSError, AttributeError):
        return None

    def hook() -> None:
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG (Linux)

    return hook


def _exit_with_parent(parent: int) -> None:
    """In a client process: leave at once when the benchmark is gone."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


class Server:
    """One server subprocess in its own session (Ctrl+C reaches us, and we stop it)."""

    def __init__(self, name: str, command: list[str], port: int, log: Path) -> None:
        self.name, self.port, self.log_path = name, port, log
        self._log = log.open("w")
        env = {k: v for k, v in os.environ.items() if k not in ("WMS_CONFIG", "WMS_DATABASE_URL")}
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_death_signal(),
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection((HOST, self.port), timeout=0.5).close()
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not start:\n{self.tail()}") from None
                time.sleep(0.1)
                continue
            deadline = time.monotonic() + 10
            while not self.worker_pids() and time.monotonic() < deadline:
                time.sleep(0.05)
            return

    def worker_pids(self) -> list[int]:
        return _children(self.process.pid)

    def pids(self) -> list[int]:
        return [self.process.pid, *self.worker_pids()]

    def tail(self, lines: int = 40) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self._log.close()


# --------------------------------------------------------------------------- the handheld


class Handheld:
    """One simulated handheld: a signed-in HTTP session and a websocket-only Socket.IO client."""

    def __init__(self, index: int, badge: str | None, spec: dict[str, Any]) -> None:
        import requests
        import socketio

        self.index, self.badge, self.spec = index, badge, spec
        self.http = requests.Session()
        self.http.headers["User-Agent"] = USER_AGENT
        self.sio = socketio.Client(http_session=self.http, reconnection=False)
        self.snapshot: dict[str, Any] | None = None
        self.tag = f"{index:04d}{secrets.token_hex(3).upper()}"
        self.totes = 0
        self.sio.on("snapshot", self._on_snapshot, namespace=NAMESPACE)

    def _on_snapshot(self, data: Any) -> None:
        if isinstance(data, dict):
            self.snapshot = data

    def sign_in(self) -> None:
        base, timeout = self.spec["url"], self.spec["timeout"]
        page = self.http.get(f"{base}/badge", timeout=timeout)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        if match is None:
            raise RuntimeError(f"no CSRF token on /badge (HTTP {page.status_code})")
        answer = self.http.post(
            f"{base}/badge",
            data={"csrf_token": match.group(1), "badge": self.badge},
            allow_redirects=False,
            timeout=timeout,
        )
        if answer.status_code not in (302, 303):
            raise RuntimeError(f"badge {self.badge} refused: HTTP {answer.status_code}")

    def connect(self) -> None:
        self.sio.connect(
            self.spec["url"],
            namespaces=[NAMESPACE],
            transports=["websocket"],
            headers={"User-Agent": USER_AGENT},
            wait_timeout=self.spec["timeout"],
        )

    def call(self, event: str, data: dict[str, Any]) -> Any:
        return self.sio.call(event, data, namespace=NAMESPACE, timeout=self.spec["timeout"])

    def next_action(self) -> tuple[str, dict[str, Any]]:
        """What the picker does next, from the last snapshot: (event, payload)."""
        if self.spec["mode"] == "echo":
            return "echo", self._scan(f"{self.spec['echo_raw']}")
        snap = self.snapshot or {}
        step, task = snap.get("step"), snap.get("task") or {}
        if step == "tote_start":
            self.totes += 1
            return "scan", self._scan(f"TOTE-{self.tag}-{self.totes:04d}")
        if step == "location" and task:
            return "scan", self._scan(str(task["location"]))
        if step == "item" and task:
            gtin = self.spec["gtins"].get(task["sku"])
            return "scan", self._scan(gtin or str(task["sku"]))
        if step == "tote" and task:
            return "scan", self._scan(str(task["tote"]))
        if step == "confirm" and task:
            return "confirm", {"client_id": uuid.uuid4().hex, "task_id": task["id"]}
        return "take_batch", {}

    @staticmethod
    def _scan(raw: str) -> dict[str, Any]:
        import datetime as dt

        return {
            "client_id": uuid.uuid4().hex,
            "raw": raw,
            "scanned_at": dt.datetime.now(dt.UTC).isoformat(),
        }

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.sio.disconnect()
        with contextlib.suppress(Exception):
            self.http.close()


@dataclass
class Tally:
    """What one client process saw in the measuring window."""

    scans_ms: list[float] = field(default_factory=list)
    take_ms: list[float] = field(default_factory=list)
    accepted: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    no_work: int = 0
    batches_taken: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scans_ms": self.scans_ms,
            "take_ms": self.take_ms,
            "accepted": self.accepted,
            "refused": dict(self.refused),
            "errors": dict(self.errors),
            "no_work": self.no_work,
            "batches_taken": self.batches_taken,
        }


def _drive(handheld: Handheld, spec: dict[str, Any], start: float, tally: Tally) -> None:
    """One handheld's loop, bounded by the window's end and by --max-calls."""
    measure_from = start + spec["warmup"]
    end = measure_from + spec["duration"]
    interval, jitter = spec["interval"], spec["jitter"]
    rng = random.Random(handheld.index * 7919 + int(start))
    paced = spec["mode"] == "interval"
    due = start + (rng.uniform(0, interval) if paced else 0.0)
    retry: tuple[str, dict[str, Any]] | None = None
    for _ in range(spec["max_calls"]):
        now = time.time()
        if now >= end:
            return
        if due > now:
            time.sleep(min(due - now, end - now))
            if time.time() >= end:
                return
        if retry is None:
            event, payload = handheld.next_action()
        else:
            event, payload = retry  # resend under the same client id: answered once
        retry = None
        sent = time.time()
        t0 = time.perf_counter()
        try:
            answer = handheld.call(event, payload)
        except Exception as error:  # noqa: BLE001 - every failure is counted
            if sent >= measure_from:
                with tally.lock:
                    tally.errors[type(error).__name__] += 1
            if type(error).__name__ == "TimeoutError" and handheld.sio.connected:
                retry = (event, payload)
                continue
            return
        elapsed = (time.perf_counter() - t0) * 1000.0
        counted = sent >= measure_from
        if not isinstance(answer, dict):
            if counted:
                with tally.lock:
                    tally.errors["bad_answer"] += 1
            return
        if isinstance(answer.get("snapshot"), dict):
            handheld.snapshot = answer["snapshot"]
        with tally.lock:
            if event == "take_batch":
                if counted:
                    tally.take_ms.append(elapsed)
                    if answer.get("ok"):
                        tally.batches_taken += 1
                    else:
                        tally.no_work += 1
            elif counted:
                tally.scans_ms.append(elapsed)
                if event == "echo" or answer.get("ok"):
                    tally.accepted += 1
                else:
                    tally.refused[str(answer.get("reason"))] += 1
        if event == "take_batch" and not answer.get("ok"):
            due = max(time.time(), due) + interval  # no cart free: look again later
        elif paced:
            due = max(due + interval * rng.uniform(1 - jitter, 1 + jitter), time.time())
        else:
            due = 0.0


def client_process(
    spec: dict[str, Any],
    members: list[tuple[int, str | None]],
    ready: Any,
    go: Any,
    start_at: Any,
    results: Any,
) -> None:
    """A client process: sign in and connect its handhelds, wait for the start, drive them."""
    import logging
    from concurrent.futures import ThreadPoolExecutor

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    _exit_with_parent(spec["parent"])
    # Disconnects from an overloaded server log one line per socket; the tally has what counts.
    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)
    logging.getLogger("socketio.client").setLevel(logging.CRITICAL)
    setup_errors: Counter[str] = Counter()
    handhelds: list[Handheld] = []

    def set_up(member: tuple[int, str | None]) -> Handheld | None:
        handheld = Handheld(member[0], member[1], spec)
        try:
            if spec["mode"] != "echo":
                handheld.sign_in()
            handheld.connect()
            if spec["mode"] != "echo":
                answer = handheld.call("take_batch", {})
                if isinstance(answer, dict) and isinstance(answer.get("snapshot"), dict):
                    handheld.snapshot = answer["snapshot"]
            return handheld
        except Exception as error:  # noqa: BLE001
            detail = str(error)[:80]
            setup_errors[f"setup {type(error).__name__}" + (f": {detail}" if detail else "")] += 1
            handheld.close()
            return None

    with ThreadPoolExecutor(max_workers=spec["connect_parallel"]) as pool:
        handhelds = [h for h in pool.map(set_up, members) if h is not None]
    ready.put((os.getpid(), len(handhelds), dict(setup_errors)))
    tally = Tally()
    if go.wait(timeout=spec["setup_timeout"]):
        start = start_at.value
        threads = [
            threading.Thread(target=_drive, args=(h, spec, start, tally), daemon=True)
            for h in handhelds
        ]
        for thread in threads:
            thread.start()
        deadline = start + spec["warmup"] + spec["duration"] + spec["timeout"] + 10
        for thread in threads:
            thread.join(timeout=max(0.1, deadline - time.time()))
        stuck = sum(t.is_alive() for t in threads)
        if stuck:
            tally.errors["client_thread_stuck"] += stuck
    results.put(tally.as_dict())
    results.close()
    results.join_thread()  # the figures are with the parent before anything can hang

    def close_all() -> None:
        with ThreadPoolExecutor(max_workers=spec["connect_parallel"]) as pool:
            list(pool.map(Handheld.close, handhelds))

    closer = threading.Thread(target=close_all, daemon=True)
    closer.start()
    closer.join(timeout=spec["timeout"] + 5)  # an overloaded server may not answer the goodbyes
    os._exit(0)


# --------------------------------------------------------------------------- one run


@dataclass
class RunResult:
    """One row of the table."""

    label: str
    clients: int
    connected: int
    duration: float
    scans_ms: list[float]
    take_ms: list[float]
    accepted: int
    refused: Counter[str]
    errors: Counter[str]
    handler_ms: list[float]
    gc_ms: list[float]
    server_cpu: float
    rss_mb: float
    threads: int
    other_cpu: float
    client_cpu: float
    no_work: int
    batches_taken: int
    profile: str = ""

    @property
    def scans(self) -> int:
        return len(self.scans_ms)

    @property
    def rate(self) -> float:
        return self.scans / self.duration if self.duration else 0.0


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; NaN when there is nothing."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def run_level(
    label: str,
    server: Server,
    mode: str,
    clients: int,
    args: argparse.Namespace,
    site: Site | None,
    timing_file: Path | None,
    procs: int,
    warmup: float | None = None,
) -> RunResult:
    """Start the client processes, open the window together, collect everything."""
    spec = {
        "url": f"http://{HOST}:{server.port}",
        "mode": mode,
        "interval": args.interval,
        "jitter": args.jitter,
        "warmup": args.warmup if warmup is None else warmup,
        "duration": args.duration,
        "timeout": args.timeout,
        "max_calls": args.max_calls,
        "gtins": site.gtins if site else {},
        "connect_parallel": args.connect_parallel,
        "setup_timeout": args.setup_timeout,
        "echo_raw": "05412345000013",
        "parent": os.getpid(),
    }
    members = [(i, site.badges[i - 1] if site else None) for i in range(1, clients + 1)]
    procs = max(1, min(procs, clients))
    groups = [members[i::procs] for i in range(procs)]
    ctx = mp.get_context("spawn")
    ready, results = ctx.Queue(), ctx.Queue()
    go, start_at = ctx.Event(), ctx.Value("d", 0.0)
    workers = [
        ctx.Process(
            target=client_process, args=(spec, g, ready, go, start_at, results), daemon=True
        )
        for g in groups
    ]
    connected, setup_errors = 0, Counter[str]()
    tallies: list[dict[str, Any]] = []
    profiler: subprocess.Popen[bytes] | None = None
    profile_out = None
    try:
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + args.setup_timeout
        for _ in workers:
            try:
                _pid, n, errs = ready.get(timeout=max(1.0, deadline - time.monotonic()))
            except queue.Empty:
                setup_errors["setup_timeout"] += 1
                break
            connected += n
            setup_errors.update(errs)
        start = time.time() + 0.5
        start_at.value = start
        go.set()
        measure_from = start + spec["warmup"]
        time.sleep(max(0.0, measure_from - time.time()))
        pids = server.pids()
        client_pids = [w.pid for w in workers if w.pid]
        cpu0 = sum(_cpu_ticks(p) for p in pids)
        client0 = sum(_cpu_ticks(p) for p in client_pids)
        busy0 = _host_ticks()
        t0 = time.time()
        if args.profile and mode != "echo" and server.worker_pids():
            profile_out = server.log_path.with_name(f"pyspy-{label}.txt")
            profiler = _start_py_spy(server.worker_pids()[0], args.duration, profile_out)
        rss, peak_threads = 0.0, 0
        while (left := measure_from + args.duration - time.time()) > 0:
            time.sleep(min(1.0, left))
            for pid in server.worker_pids():
                memory, count = _memory_threads(pid)
                rss, peak_threads = max(rss, memory), max(peak_threads, count)
        elapsed = time.time() - t0
        cpu1 = sum(_cpu_ticks(p) for p in pids)
        client1 = sum(_cpu_ticks(p) for p in client_pids)
        busy1 = _host_ticks()
        wait_until = time.monotonic() + args.timeout + 30
        for _ in workers:
            try:
                tallies.append(results.get(timeout=max(1.0, wait_until - time.monotonic())))
            except queue.Empty:
                setup_errors["results_missing"] += 1
                break
        for worker in workers:
            worker.join(timeout=max(0.1, wait_until - time.monotonic()))
    finally:
        go.set()
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
                worker.join(timeout=5)
        if profiler is not None:
            try:
                profiler.wait(timeout=args.duration + 30)
            except subprocess.TimeoutExpired:
                profiler.kill()
    server_cpu = 100.0 * (cpu1 - cpu0) / CLK_TCK / elapsed
    client_cpu = 100.0 * (client1 - client0) / CLK_TCK / elapsed
    host = 100.0 * (busy1 - busy0) / CLK_TCK / elapsed
    errors: Counter[str] = Counter(setup_errors)
    refused: Counter[str] = Counter()
    scans_ms: list[float] = []
    take_ms: list[float] = []
    accepted = no_work = taken = 0
    for tally in tallies:
        scans_ms += tally["scans_ms"]
        take_ms += tally["take_ms"]
        accepted += tally["accepted"]
        refused.update(tally["refused"])
        errors.update(tally["errors"])
        no_work += tally["no_work"]
        taken += tally["batches_taken"]
    handler_ms = _handler_samples(timing_file, measure_from, measure_from + args.duration)
    gc_ms = _gc_pauses(timing_file, measure_from, measure_from + args.duration)
    result = RunResult(
        label=label,
        clients=clients,
        connected=connected,
        duration=args.duration,
        scans_ms=scans_ms,
        take_ms=take_ms,
        accepted=accepted,
        refused=refused,
        errors=errors,
        handler_ms=handler_ms,
        gc_ms=gc_ms,
        server_cpu=server_cpu,
        rss_mb=rss,
        threads=peak_threads,
        other_cpu=host - server_cpu - client_cpu,
        client_cpu=client_cpu,
        no_work=no_work,
        batches_taken=taken,
    )
    if profile_out is not None and profile_out.exists():
        result.profile = summarise_profile(profile_out)
    return result


def _gc_pauses(timing_file: Path | None, start: float, end: float) -> list[float]:
    """The server's full collections in the window, ms each."""
    values: list[float] = []
    if timing_file is None:
        return values
    with contextlib.suppress(OSError), timing_file.open(encoding="utf-8") as lines:
        for line in lines:
            wall, event, ms = line.split()
            if event == "gc2" and start <= float(wall) < end:
                values.append(float(ms))
    return values


def _handler_samples(timing_file: Path | None, start: float, end: float) -> list[float]:
    if timing_file is None:
        return []
    time.sleep(1.2)  # the server flushes every 0.5 s
    values = []
    with contextlib.suppress(OSError), timing_file.open(encoding="utf-8") as lines:
        for line in lines:
            wall, event, ms = line.split()
            # The sample's wall time is when the handler ended; its scan was sent before.
            if event in ("scan", "confirm") and start <= float(wall) - float(ms) / 1000 < end:
                values.append(float(ms))
    return values


# --------------------------------------------------------------------------- py-spy


def _start_py_spy(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(exe).exists():
        print("  (py-spy not found: pip install py-spy)")
        return None
    return subprocess.Popen(
        [
            exe,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, int(seconds))),
            "--rate",
            "100",
            "--format",
            "raw",
            "--nolineno",
            "--nonblocking",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


# Self time is charged to the innermost Python frame: a frame that calls into sqlite3's C code
# (execute, commit) carries the time spent in SQLite, its locks and its fsync.
_BUCKETS = (
    ("SQLite BEGIN IMMEDIATE (waiting for the write lock)", ("_on_begin (",)),
    ("SQLite COMMIT (WAL write + fsync)", ("do_commit (",)),
    ("SQLite statements (C: execute, fetch)", ("do_execute (", "fetchall (", "fetchone (")),
    ("SQLAlchemy pool (waiting for a connection)", ("sqlalchemy/pool/",)),
    ("SQLAlchemy Python (ORM, compile, cache keys, loading)", ("sqlalchemy/",)),
    ("wms use cases (wms/)", ("/wms/",)),
    (
        "Flask, Flask-Login, Babel, session cookie",
        ("/web/", "flask", "werkzeug/", "itsdangerous/", "babel/", "jinja2/"),
    ),
    (
        "Socket.IO/Engine.IO/websocket stack",
        ("socketio/", "engineio/", "simple_websocket/", "wsproto/"),
    ),
    ("threading (locks, conditions)", ("/threading.py)", "/queue.py)")),
    ("gunicorn", ("gunicorn/",)),
)


def summarise_profile(path: Path, top: int = 22) -> str:
    """py-spy raw stacks: where the samples are (inclusive), by frame and by component."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    by_bucket: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
        leaf = frames[-1]
        for name, needles in _BUCKETS:
            if any(n in leaf for n in needles):
                by_bucket[name] += count
                break
        else:
            by_bucket["other (stdlib, json, ...)"] += count
    if not total:
        return "  (no samples)"

    def short(frame: str) -> str:
        return re.sub(r"\(/[^)]*?/(site-packages|main)/", "(", frame)

    lines = [f"  {total} samples (100 Hz, non-idle threads)", "  self time by component:"]
    lines += [f"    {100 * n / total:5.1f}%  {name}" for name, n in by_bucket.most_common()]
    lines.append("  inclusive, top frames:")
    lines += [
        f"    {100 * n / total:5.1f}%  {short(frame)}"
        for frame, n in inclusive.most_common(top)
        if not frame.startswith(("<module>", "_bootstrap", "run (threading", "process_thread"))
    ]
    lines.append("  self, top frames:")
    lines += [f"    {100 * n / total:5.1f}%  {short(frame)}" for frame, n in own.most_common(12)]
    return "\n".join(lines)


# --------------------------------------------------------------------------- report


def print_table(rows: list[RunResult]) -> None:
    header = (
        f"{'level':<12} {'clients':>7} {'scans':>7} {'scans/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'hdl p50':>7} {'hdl p99':>7} {'srv CPU %':>9} {'RSS MB':>7} {'threads':>7} "
        f"{'other CPU %':>11} "
        f"{'cli CPU %':>9} {'refused':>7} {'errors':>6}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        connected = f"{r.connected}" if r.connected == r.clients else f"{r.connected}/{r.clients}"
        hdl50 = percentile(r.handler_ms, 0.50)
        hdl99 = percentile(r.handler_ms, 0.99)
        print(
            f"{r.label:<12} {connected:>7} {r.scans:>7} {r.rate:>8.1f} "
            f"{percentile(r.scans_ms, 0.5):>7.2f} {percentile(r.scans_ms, 0.99):>7.2f} "
            f"{'-' if math.isnan(hdl50) else f'{hdl50:.2f}':>7} "
            f"{'-' if math.isnan(hdl99) else f'{hdl99:.2f}':>7} "
            f"{r.server_cpu:>9.0f} {r.rss_mb:>7.0f} {r.threads:>7} "
            f"{r.other_cpu:>11.0f} {r.client_cpu:>9.0f} "
            f"{sum(r.refused.values()):>7} {sum(r.errors.values()):>6}"
        )
    print()
    for r in rows:
        extra = []
        if r.take_ms:
            extra.append(
                f"take_batch x{len(r.take_ms)} p50 {percentile(r.take_ms, 0.5):.1f} ms "
                f"p99 {percentile(r.take_ms, 0.99):.1f} ms"
            )
        if r.gc_ms:
            extra.append(
                f"server full GCs x{len(r.gc_ms)} max {max(r.gc_ms):.1f} ms "
                f"total {sum(r.gc_ms):.0f} ms"
            )
        if r.no_work:
            extra.append(f"{r.no_work} take_batch found no free cart")
        if r.refused:
            extra.append("refused: " + ", ".join(f"{k} {v}" for k, v in r.refused.most_common()))
        if r.errors:
            extra.append("errors: " + ", ".join(f"{k} {v}" for k, v in r.errors.most_common()))
        if extra:
            print(f"  {r.label}: " + "; ".join(extra))


def print_aims(rows: list[RunResult], interval: float) -> None:
    print("\nAims")
    target = next((r for r in rows if r.label == f"every{interval:g}s" and r.clients == 500), None)
    if target is None:
        target = max(
            (r for r in rows if r.label.startswith("every")), key=lambda r: r.clients, default=None
        )
    if target is not None:
        p99 = percentile(target.scans_ms, 0.99)
        hdl = percentile(target.handler_ms, 0.99)
        ok = p99 < 25.0 and not target.errors and target.connected == target.clients
        print(
            f"  p99 < 25 ms at {target.clients} handhelds scanning every {interval:g} s: "
            f"round trip p99 {p99:.2f} ms"
            + ("" if math.isnan(hdl) else f" (handler p99 {hdl:.2f} ms)")
            + f" -> {'MET' if ok else 'NOT MET'}"
            + ("" if target.clients == 500 else " (the aim is stated for 500)")
        )
        if not math.isnan(hdl):
            # The issue asks for server-side latency: the handler's time is that, less the
            # websocket stack and the wait before the loop reads the frame; the round trip
            # above adds those and the clients' own scheduling on the shared cores.
            print(
                f"  the same, server side (the handler's time): p99 {hdl:.2f} ms -> "
                + ("MET" if hdl < 25.0 and not target.errors else "NOT MET")
            )
    saturations = [r for r in rows if r.label.startswith("saturation")]
    echoes = [r for r in rows if r.label == "echo" or r.label.startswith("echo#")]
    # Each saturation window against the echo window next to it: the machine's speed drifts.
    ratios = [s.rate / e.rate for s, e in zip(saturations, echoes, strict=False) if e.rate]
    if ratios:
        middle = statistics.median(ratios)
        # A window whose handhelds found no free cart scanned less than it could.
        each = ", ".join(
            f"{s.rate:.0f}/{e.rate:.0f} = {s.rate / e.rate:.2f}"
            + (" (carts ran out: too low)" if s.no_work else "")
            for s, e in zip(saturations, echoes, strict=False)
            if e.rate
        )
        print(
            f"  saturation full-scan rate >= half the echo ceiling (echo under the WMS server's"
            f" own worker, {len(ratios)} alternated pair(s): {each}): median {middle:.2f} -> "
            + ("MET" if middle >= 0.5 else "NOT MET")
        )
    rate = statistics.median(r.rate for r in saturations) if saturations else 0.0
    for echo in (r for r in rows if r.label.startswith("echo-")):
        if not saturations or not echo.rate:
            continue
        ratio = rate / echo.rate
        print(
            f"  saturation (median {rate:.0f} scans/s) against the {echo.label} echo "
            f"({echo.rate:.0f} msgs/s, one window): {ratio:.2f}"
        )


# --------------------------------------------------------------------------- main


def _levels(text: str) -> list[int]:
    values = [int(v) for v in text.split(",") if v.strip()]
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError("levels are positive client counts")
    return values


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--levels",
        type=_levels,
        default=[50, 200, 500],
        help="handheld counts scanning every --interval (default 50,200,500)",
    )
    parser.add_argument("--duration", type=float, default=30.0, help="measuring window, s")
    parser.add_argument(
        "--warmup",
        type=float,
        default=20.0,
        help="unmeasured start, s (carts start with tote scans, the cheapest: at 500 handhelds"
        " the pick mix takes about 20 s to settle)",
    )
    parser.add_argument("--interval", type=float, default=2.0, help="s between one's scans")
    parser.add_argument("--jitter", type=float, default=0.25, help="+/- fraction of interval")
    parser.add_argument(
        "--saturation-clients", type=int, default=50, help="back-to-back handhelds (0 = skip)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="saturation and echo windows, alternated; the ratio is taken per pair (the"
        " machine's speed drifts within minutes)",
    )
    parser.add_argument(
        "--echo-clients",
        type=int,
        default=50,
        help="back-to-back clients on the bare echo server (0 = skip)",
    )
    parser.add_argument(
        "--client-procs",
        type=int,
        default=0,
        help=f"client processes for paced levels (0 = one per {CLIENTS_PER_PROCESS} handhelds)",
    )
    parser.add_argument(
        "--burst-procs", type=int, default=2, help="client processes for the back-to-back runs"
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="server.threads (0 = most clients + 50)"
    )
    parser.add_argument(
        "--orders", type=int, default=60_000, help="B2C orders in the demo (enough for every run)"
    )
    parser.add_argument("--locations", type=int, default=6000, help="pick locations")
    parser.add_argument("--items", type=int, default=1500, help="items (SKUs)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--timeout", type=float, default=8.0, help="per call, s (handheld.js waits 8 s)"
    )
    parser.add_argument(
        "--max-calls", type=int, default=100_000, help="bound on calls per handheld and run"
    )
    parser.add_argument(
        "--connect-parallel",
        type=int,
        default=8,
        help="sign-ins/connects at once per client process",
    )
    parser.add_argument(
        "--setup-timeout",
        type=float,
        default=300.0,
        help="bound on signing in and connecting one level, s",
    )
    parser.add_argument(
        "--no-server-timing",
        action="store_true",
        help="start the plain `wms serve` (no handler timer)",
    )
    parser.add_argument(
        "--worker",
        choices=("gevent", "gthread"),
        default="gevent",
        help="server.worker of the WMS server (and of the alternated echo)",
    )
    parser.add_argument("--profile", action="store_true", help="py-spy the server in WMS runs")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    return parser.parse_args(argv)


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Ctrl+C and `kill` both end in the cleanup below (even when started in the background).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    wms_clients = max([*args.levels, args.saturation_clients, 0])
    most = max(wms_clients, args.echo_clients)
    threads = args.threads or most + 50
    workdir = Path(tempfile.mkdtemp(prefix="wms-handheld-load-"))
    servers: list[Server] = []
    rows: list[RunResult] = []
    try:
        print(f"Scratch directory: {workdir}")
        print(
            f"Machine: {os.cpu_count()} CPUs; Python {sys.version.split()[0]}; "
            f"clients and servers share the cores; 127.0.0.1 only"
        )
        site = None
        if wms_clients:
            print(
                f"Building the site: {args.orders} B2C orders, {args.locations} locations, "
                f"{args.items} items, {wms_clients} pickers ...",
                flush=True,
            )
            site = build_site(workdir, args, wms_clients, threads)
            print(
                f"  {site.batches} carts, {site.tasks} pick tasks, {len(site.gtins)} unit "
                f"GTINs; {'; '.join(site.notes)}; {site.build_seconds:.0f} s",
                flush=True,
            )
            port = _free_port()
            timing = None if args.no_server_timing else workdir / "handler-times.txt"
            cli_args = ["--config", str(site.config), "serve", "--host", HOST, "--port", str(port)]
            if timing is None:
                command = [sys.executable, "-m", "web.cli", *cli_args]
            else:
                command = [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "_serve-timed",
                    str(timing),
                    args.worker,
                    *cli_args,
                ]
            server = Server("wms server", command, port, workdir / "wms-server.log")
            servers.append(server)
            server.wait_ready()
            print(
                f"WMS server on port {port}: gunicorn {args.worker}, 1 worker"
                + (f", {threads} threads" if args.worker == "gthread" else "")
                + f"; pids {server.pids()}",
                flush=True,
            )
            for clients in args.levels:
                procs = args.client_procs or math.ceil(clients / CLIENTS_PER_PROCESS)
                label = f"every{args.interval:g}s"
                print(
                    f"  {label}: {clients} handhelds in {procs} client process(es) ...", flush=True
                )
                waited = settle(server)
                if waited > 2:
                    print(f"    (waited {waited:.0f} s for the server to go idle)", flush=True)
                rows.append(
                    run_level(label, server, "interval", clients, args, site, timing, procs)
                )
                _say(rows[-1])
        echo_worker = args.worker
        if args.echo_clients:
            echo = start_echo(args, echo_worker, threads, workdir)
            servers.append(echo)
        # Saturation and the like-for-like echo alternate, one pair per round: the machine's
        # speed drifts by tens of percent within minutes, so the ratio is taken per pair.
        for round_no in range(1, args.rounds + 1):
            suffix = f"#{round_no}" if args.rounds > 1 else ""
            # After the first round the carts are under way and the pick mix settled.
            warmup = args.warmup if round_no == 1 else min(args.warmup, 5.0)
            if args.saturation_clients and site is not None:
                print(
                    f"  saturation{suffix}: {args.saturation_clients} handhelds back-to-back in "
                    f"{args.burst_procs} client process(es) ...",
                    flush=True,
                )
                waited = settle(server)
                if waited > 2:
                    print(f"    (waited {waited:.0f} s for the server to go idle)", flush=True)
                rows.append(
                    run_level(
                        f"saturation{suffix}",
                        server,
                        "burst",
                        args.saturation_clients,
                        args,
                        site,
                        timing,
                        args.burst_procs,
                        warmup,
                    )
                )
                _say(rows[-1])
            if args.echo_clients:
                print(
                    f"  echo{suffix} (gunicorn {echo_worker}): {args.echo_clients} clients "
                    f"back-to-back in {args.burst_procs} client process(es) ...",
                    flush=True,
                )
                rows.append(
                    run_level(
                        f"echo{suffix}",
                        echo,
                        "echo",
                        args.echo_clients,
                        args,
                        None,
                        None,
                        args.burst_procs,
                        warmup,
                    )
                )
                _say(rows[-1])
        for running in servers:
            running.stop()
        # The other worker's echo once: the threading figure is the one of earlier runs.
        if args.echo_clients:
            other = "gthread" if args.worker == "gevent" else "gevent"
            echo = start_echo(args, other, threads, workdir)
            servers.append(echo)
            print(
                f"  echo-{other}: {args.echo_clients} clients back-to-back in "
                f"{args.burst_procs} client process(es) ...",
                flush=True,
            )
            rows.append(
                run_level(
                    f"echo-{other}",
                    echo,
                    "echo",
                    args.echo_clients,
                    args,
                    None,
                    None,
                    args.burst_procs,
                )
            )
            _say(rows[-1])
            echo.stop()
        print()
        print_table(rows)
        print_aims(rows, args.interval)
        for r in rows:
            if r.profile:
                print(f"\npy-spy, server worker, {r.label} {r.clients} clients:\n{r.profile}")
        return 0
    except KeyboardInterrupt:
        print("\nInterrupted: stopping the servers.")
        if rows:
            print_table(rows)
        return 130
    finally:
        for server in servers:
            with contextlib.suppress(Exception):
                server.stop()
        if args.keep:
            print(f"Kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def start_echo(args: argparse.Namespace, worker: str, threads: int, workdir: Path) -> Server:
    """The bare Flask-SocketIO echo server under ``worker``, started and ready."""
    port = _free_port()
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "_echo-server",
        str(port),
        str(threads),
        worker,
    ]
    echo = Server("echo server", command, port, workdir / f"echo-{worker}.log")
    echo.wait_ready()
    print(f"Echo server on port {port} (gunicorn {worker}, as `wms serve`)", flush=True)
    return echo


def settle(server: Server, limit: float = 300.0) -> float:
    """Wait (bounded) until the server is idle: a level must not inherit the last one's backlog."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        before = sum(_cpu_ticks(p) for p in server.pids())
        time.sleep(1.0)
        if sum(_cpu_ticks(p) for p in server.pids()) - before <= 0.05 * CLK_TCK:
            break
    return time.monotonic() - started


def _say(r: RunResult) -> None:
    print(
        f"    {r.connected}/{r.clients} connected, {r.scans} scans, {r.rate:.1f}/s, "
        f"p50 {percentile(r.scans_ms, 0.5):.2f} ms, p99 {percentile(r.scans_ms, 0.99):.2f} ms, "
        f"errors {sum(r.errors.values())}",
        flush=True,
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_echo-server":
        _serve_echo(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) > 1 and sys.argv[1] == "_serve-timed":
        _serve_timed(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        sys.exit(main())
