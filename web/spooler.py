"""The print spooler: one sender thread per configured printer, working the stored queue.

Each sender claims its printer's oldest due job (committed as ``sending``), hands the bytes to
``devices.printer.ZebraPrinter`` (``~HS`` before, the job, ``~HS`` after, on one connection),
and commits the outcome: printed, or queued again with a back-off while the printer is out of
paper, head-open, paused, silent or unreachable. ``wms.print_jobs`` explains the at-least-once
window. Enqueuers call :meth:`PrintSpooler.wake` after their commit so a job leaves at once;
otherwise a sender looks at the queue every second (another server process may have queued
it) and asks an idle printer for its status every few seconds, so the screens show paper-out
before the next label is due.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from flask import Flask

from devices.printer.codec import PrinterState, PrinterStatus
from devices.printer.driver import ZebraPrinter
from devices.printer.errors import PrinterConnectionLost, PrinterError
from devices.printer.transport import transport_from_url
from wms import print_jobs
from wms.config import PrinterSettings
from wms.db import Database

log = logging.getLogger(__name__)

IDLE_POLL_S = 1.0
STATUS_EVERY_S = 5.0


@dataclass(frozen=True)
class PrinterView:
    """A printer as the packer sees it: name, state, message, and when it was last asked."""

    name: str
    state: str
    message: str
    can_print: bool
    checked_at: float


class PrinterSender:
    """The one thread that talks to one printer."""

    def __init__(
        self,
        db: Database,
        settings: PrinterSettings,
        *,
        printer: ZebraPrinter | None = None,
        status_every: float = STATUS_EVERY_S,
    ) -> None:
        self.db = db
        self.settings = settings
        self.name = settings.name
        self.printer = printer or ZebraPrinter(
            transport_from_url(settings.url), name=settings.name, status_timeout=2.0
        )
        self.status_every = status_every
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent_at: dict[int, float] = {}  # job id -> perf_counter when its bytes left

    def start(self) -> None:
        """Requeue what a stopped server left half-sent, then start the thread."""
        with self.db.write() as session:
            count = print_jobs.requeue_interrupted(session, self.name)
        if count:
            log.warning("printer %s: %d interrupted job(s) queued again", self.name, count)
        self._thread = threading.Thread(target=self._run, name=f"print-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the job in hand and stop."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self) -> None:
        """A job was queued: look now."""
        self._wake.set()

    @property
    def status(self) -> PrinterStatus:
        """The printer's last known status."""
        return self.printer.last_status

    def view(self) -> PrinterView:
        """The printer for the screens."""
        status = self.printer.last_status
        return PrinterView(
            self.name, status.state.value, status.message, status.can_print, status.checked_at
        )

    def _run(self) -> None:
        last_status = 0.0
        while not self._stop.is_set():
            self._wake.clear()  # before looking, so a wake during the look is not lost
            try:
                worked = self.send_one()
            except Exception:  # a database hiccup must not kill the printer's only thread
                log.exception("printer %s: sender failed; retrying", self.name)
                worked = False
            if worked:
                last_status = time.monotonic()
                continue
            if time.monotonic() - last_status >= self.status_every:
                self.printer.status()
                last_status = time.monotonic()
            try:
                wait = self._idle_wait()
            except Exception:
                log.exception("printer %s: cannot read the queue", self.name)
                wait = IDLE_POLL_S
            self._wake.wait(wait)

    def _idle_wait(self) -> float:
        with self.db.read() as session:
            due = print_jobs.next_due(session, self.name)
        if due is None:
            return IDLE_POLL_S
        wait = (due - print_jobs._now()).total_seconds()
        return max(0.0, min(IDLE_POLL_S, wait))

    def send_one(self) -> bool:
        """Send the next due job if there is one; tell whether one was tried."""
        with self.db.write() as session:
            job = print_jobs.claim_next(session, self.name)
            if job is None:
                return False
            job_id, data, attempts = job.id, job.zpl, job.attempts
        try:
            result = self.printer.print_job(data)
        except PrinterConnectionLost as error:
            note = f"{error.status.message}; connection lost while sending: a copy may print"
            self._retry(job_id, note, attempts)
            return True
        except PrinterError as error:
            self._retry(job_id, error.status.message, attempts)
            return True
        self.sent_at[job_id] = time.perf_counter()
        after = result.status_after
        # The printer took the bytes; a fault it reports now (paper ran out on this label) is
        # kept with the job for the packer, and the next job waits for it to be cleared.
        note = "" if after.can_print else f"printer after this job: {after.message}"
        with self.db.write() as session:
            print_jobs.mark_printed(session, job_id, note=note)
        return True

    def _retry(self, job_id: int, message: str, attempts: int) -> None:
        with self.db.write() as session:
            due = print_jobs.mark_retry(session, job_id, message, attempts=attempts)
        log.info(
            "printer %s: job %d not printed (%s); next try %s", self.name, job_id, message, due
        )


class PrintSpooler:
    """Every configured printer's sender, started in the serving process."""

    def __init__(self, db: Database, printers: Iterable[PrinterSettings]) -> None:
        self.db = db
        self.senders = {p.name: PrinterSender(db, p) for p in printers if p.driver == "zpl"}
        self.pid: int | None = None

    def start(self) -> None:
        """Start every sender (once per process: a forked worker starts its own)."""
        if self.pid == os.getpid():
            return
        self.pid = os.getpid()
        for sender in self.senders.values():
            sender.start()

    def stop(self) -> None:
        """Stop every sender."""
        for sender in self.senders.values():
            sender.stop()
        self.pid = None

    def wake(self, printer: str) -> None:
        """Tell ``printer``'s sender that a job is waiting."""
        sender = self.senders.get(printer)
        if sender is not None:
            sender.wake()

    def view(self, printer: str) -> PrinterView:
        """One printer for the screens; a name without a sender shows as not configured."""
        sender = self.senders.get(printer)
        if sender is None:
            return PrinterView(printer, PrinterState.UNREACHABLE.value, "not configured", False, 0)
        return sender.view()


def init_spooler(app: Flask, *, start: bool) -> PrintSpooler:
    """Attach the spooler to ``app``; with ``start`` it starts on the first request.

    Started lazily because gunicorn forks its worker after the app is built, and threads do
    not survive a fork.
    """
    settings = app.extensions["wms_settings"]
    spooler = PrintSpooler(app.extensions["wms_db"], settings.printers)
    app.extensions["wms_spooler"] = spooler
    if start and spooler.senders:

        @app.before_request
        def _start_spooler() -> None:
            spooler.start()

    return spooler


def get_spooler(app: Flask) -> PrintSpooler:
    """The app's spooler."""
    spooler: PrintSpooler = app.extensions["wms_spooler"]
    return spooler
