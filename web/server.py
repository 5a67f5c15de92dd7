"""Runs the app under gunicorn: one process; a greenlet (gevent) or thread (gthread) per socket."""

from __future__ import annotations

import gc
import logging
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask
from gunicorn.app.base import BaseApplication

from wms.db import Database
from wms.db.wal_sync import WalSync

log = logging.getLogger(__name__)

T = TypeVar("T")


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self._app = app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self._app


def patch_for_gevent() -> None:
    """Make sockets, threads, locks and sleeps cooperative; call before the app is built.

    Everything the app starts (devices, spooler, dashboard, the scan writer) then runs as
    greenlets of one hub, and every lock it makes is a gevent lock.
    """
    from gevent import monkey

    if monkey.is_module_patched("socket"):
        return
    with warnings.catch_warnings():
        # Flask imports http.client, which imports ssl, before any command runs; nothing
        # has opened a TLS connection by then, so patching it now is safe.
        warnings.filterwarnings("ignore", message="Monkey-patching ssl after ssl")
        monkey.patch_all()


def gevent_patched() -> bool:
    """Whether this process runs on gevent (patch_for_gevent was called)."""
    if "gevent" not in sys.modules:
        return False
    from gevent import monkey

    return bool(monkey.is_module_patched("socket"))


def off_the_loop(work: Callable[[], T]) -> T:
    """Run CPU-heavy ``work`` where it does not stall the sockets; return its result.

    Under gevent every greenlet shares one thread, so a long computation there would hold
    every handheld's answer: it runs on a native thread of gevent's pool instead, and only
    the calling greenlet waits. Under gthread the caller is its own thread already.
    """
    if not gevent_patched():
        return work()
    import gevent

    return cast(T, gevent.get_hub().threadpool.apply(work))


def yield_to_the_loop() -> None:
    """Let the other greenlets run (gevent): sockets read, answers sent; then carry on."""
    import gevent

    gevent.sleep(0)


class CommitWhereFast:
    """Runs each COMMIT on the caller's thread while the disk syncs fast, off the loop when not.

    Under gevent the scan writer's COMMIT blocks every socket for as long as it takes.
    Handing it to a native thread costs more than that on a disk that commits in a few
    milliseconds: the hand-off and the GIL going back and forth gave the handhelds a
    server-side p99 of 34-42 ms at 500 handhelds, against 15-23 ms in place (commits of
    0.8-1.3 ms median; in saturation, commits of dozens of scans, 2.5-3.5 ms on average, and
    no difference beyond the noise). So the commit runs in place while its moving average
    stays under ``slow_ms``, and on ``away`` (a native thread) while a slow disk would stall
    the loop for most of its time. Measured away, a commit's time includes the wait for the
    GIL.
    """

    def __init__(
        self,
        away: Callable[[Callable[[], None]], None],
        *,
        slow_ms: float = 10.0,
        weight: float = 0.1,
    ) -> None:
        self._away = away
        self._slow = slow_ms / 1000.0
        self._weight = weight
        self.average = 0.0  # seconds, a moving average of the commits' own time

    def __call__(self, commit: Callable[[], None]) -> None:
        """Run ``commit`` in place or away, and fold its duration into the average."""
        spent: list[float] = []

        def timed() -> None:
            started = time.perf_counter()
            try:
                commit()
            finally:
                spent.append(time.perf_counter() - started)

        try:
            if self.average < self._slow:
                timed()
            else:
                self._away(timed)
        finally:
            if spent:
                self.average += self._weight * (spent[0] - self.average)


class _OnTheLoop:
    """Where a WAL sync thread runs and hands its callers back, under gevent.

    The hub is the one of the thread that starts the sync thread (the worker's loop, after
    gunicorn's fork): a native thread asking for "its" hub would get a new one.
    """

    def __init__(self) -> None:
        self._hub: Any = None

    def start_thread(self, target: Callable[[], None]) -> None:
        import gevent

        self._hub = gevent.get_hub()
        self._hub.threadpool.spawn(target)

    def hand_back(self, callback: Callable[[], None]) -> None:
        self._hub.loop.run_callback_threadsafe(callback)


def wal_sync_for(database: Database) -> WalSync | None:
    """The scan writer's sync thread (wms/db/wal_sync.py) for a SQLite file; else None."""
    if database.dialect != "sqlite" or database.engine.url.database in (None, "", ":memory:"):
        return None
    if gevent_patched():
        from gevent import monkey

        loop = _OnTheLoop()
        native_lock = monkey.get_original("_thread", "allocate_lock")
        return WalSync(start_thread=loop.start_thread, hand_back=loop.hand_back, wake=native_lock())

    def start_thread(target: Callable[[], None]) -> None:
        import threading

        threading.Thread(target=target, name="wal-sync", daemon=True).start()

    return WalSync(start_thread=start_thread, hand_back=lambda callback: callback())


def start_wal_checkpoints(database: Database, every: float = 1.0) -> Callable[[], None]:
    """Checkpoint the SQLite WAL every ``every`` s on a native thread, for the process's life.

    The server's connections never checkpoint inside a COMMIT (``background_checkpoints``):
    that copy and its fsync held the scan writer, and every handheld behind it. Here it runs
    beside the writer; under gevent on a thread of gevent's pool, so the loop never waits.
    Returns a function that stops it (after its current round).
    """
    stopped: list[bool] = []
    if not database.background_checkpoints:
        return lambda: None

    def checkpoint_forever(sleep: Callable[[float], None]) -> None:
        while not stopped:
            sleep(every)
            try:
                database.checkpoint()
            except Exception:  # noqa: BLE001 - a failed round is retried; the WAL just grows
                log.exception("WAL checkpoint failed")

    if gevent_patched():
        import gevent
        from gevent import monkey

        native_sleep = monkey.get_original("time", "sleep")
        gevent.get_hub().threadpool.spawn(checkpoint_forever, native_sleep)
    else:
        import threading
        import time

        threading.Thread(
            target=checkpoint_forever, args=(time.sleep,), name="wal-checkpoints", daemon=True
        ).start()
    return lambda: stopped.append(True)


def _settle_worker(_worker: Any) -> None:
    """Tune the worker once it is up: freeze what collections keep; under gevent, yield the GIL.

    The app, its libraries and their caches, and the objects of each connected handheld, are a
    large heap that lives as long as the process or the connection; without freezing, every
    full collection walks all of it and stops every socket meanwhile (90-230 ms under load).
    Under gevent one thread runs every socket, and the native threads beside it (dashboard
    panels, the COMMIT, WAL checkpoints) would hold the GIL for up to 5 ms at a time: at 1 ms
    the loop waits less behind them (dashboard benchmark: scan p99 change +71 % and +83 % with
    20 dashboards at 5 ms, +19 % and -12 % at 1 ms).
    """
    gc.collect()
    gc.freeze()
    if _freeze_after_full_collections not in gc.callbacks:
        gc.callbacks.append(_freeze_after_full_collections)
    if gevent_patched():
        sys.setswitchinterval(0.001)
    _spawn(_collect_frozen_regularly)


def _freeze_after_full_collections(phase: str, info: dict[str, int]) -> None:
    """After each full collection, freeze what survived it: the next walks only what is newer.

    What survives a full collection was live just then. Frozen, it is left out of every later
    walk: the modules imported on first use, and what each handheld holds while connected
    (with 500 connected, each full collection walked 100,000 objects). A cycle among frozen
    objects that dies later waits for the next round of _collect_frozen_regularly.
    """
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()


# How often everything frozen is collected again (see _collect_frozen_regularly).
REFREEZE_EVERY = 900.0


def _collect_frozen_regularly() -> None:
    """Every ``REFREEZE_EVERY`` seconds, unfreeze, collect and freeze again: nothing leaks.

    Frozen objects are never collected, so the cycles left by handhelds that disconnected
    since they were frozen would stay. This round finds them, at the price of one walk over
    the whole heap (about 200 ms with 500 handhelds connected) every quarter of an hour.
    """
    while REFREEZE_EVERY > 0:
        time.sleep(REFREEZE_EVERY)  # gevent's sleep where patched
        _refreeze()


def _refreeze() -> None:
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _spawn(function: Callable[[], None]) -> None:
    if gevent_patched():
        import gevent

        gevent.spawn(function)
    else:
        import threading

        threading.Thread(target=function, name="refreeze", daemon=True).start()


def run(app: Flask, host: str, port: int, threads: int) -> None:
    """Serve ``app`` on host:port until interrupted.

    One worker only: Socket.IO needs sticky sessions, which gunicorn cannot give across
    workers; to scale out, run more processes behind a load balancer sharing Redis.
    The worker is gevent when the process was patched for it, else gthread with ``threads``.
    """
    worker = {"worker_class": "gevent"} if gevent_patched() else {"worker_class": "gthread"}
    _Gunicorn(
        app,
        {
            "bind": f"{host}:{port}",
            "workers": 1,
            **worker,
            "threads": threads,
            # Each websocket holds a connection for the whole shift.
            "worker_connections": max(5000, threads * 10),
            "post_worker_init": _settle_worker,
            "timeout": 0,
            "graceful_timeout": 5,
            "accesslog": "-",
            "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
        },
    ).run()
