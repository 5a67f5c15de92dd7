"""The Zebra printer driver: ``~HS`` before a job, the job, ``~HS`` after, on one connection.

A job is only sent when the status before it allows printing, so a job for a printer that is
out of paper stays with the caller (the spooler) to be retried, instead of vanishing into a
buffer that a power cycle clears. The status after the job tells whether the printer took it
and is still fine. A printer that does not answer ``~HS`` is in an error state (reference C.5:
current firmware stays silent on media out, ribbon out, head open and over-temperature).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from devices.health import DeviceHealth, HealthState
from devices.printer.codec import (
    HOST_IDENTIFICATION_QUERY,
    HOST_STATUS_QUERY,
    PrinterState,
    PrinterStatus,
)
from devices.printer.errors import PrinterError, PrinterNotReady
from devices.printer.transport import PrinterConnection, PrinterTransport

log = logging.getLogger(__name__)

_HEALTH = {
    PrinterState.READY: HealthState.OK,
    PrinterState.UNKNOWN: HealthState.OK,
    PrinterState.PAUSED: HealthState.WARNING,
    PrinterState.BUFFER_FULL: HealthState.WARNING,
    PrinterState.BAD_REPLY: HealthState.DRIVER_FAULT,
}


@dataclass(frozen=True)
class PrintResult:
    """A delivered job: the printer's status before and after, and the time it took."""

    bytes_sent: int
    status_before: PrinterStatus
    status_after: PrinterStatus
    seconds_to_sent: float
    seconds_total: float


class ZebraPrinter:
    """One printer behind a transport; jobs are serialised, status is kept for health."""

    def __init__(
        self,
        transport: PrinterTransport,
        *,
        name: str = "",
        status_timeout: float = 2.0,
    ) -> None:
        self.transport = transport
        self.name = name or transport.url
        self.status_timeout = status_timeout
        self._lock = threading.Lock()
        self._last = PrinterStatus.of(PrinterState.UNKNOWN, "not checked yet")
        self._last_seen: float | None = None

    @property
    def last_status(self) -> PrinterStatus:
        """The status from the most recent exchange."""
        return self._last

    def _remember(self, status: PrinterStatus) -> PrinterStatus:
        if status.state != self._last.state:
            log.info("printer %s: %s", self.name, status.message)
        self._last = status
        if status.state not in (PrinterState.UNREACHABLE, PrinterState.NO_REPLY):
            self._last_seen = status.checked_at
        return status

    def _query_status(self, connection: PrinterConnection) -> PrinterStatus:
        if not self.transport.has_status:
            return PrinterStatus.of(PrinterState.UNKNOWN)
        reply = connection.query(HOST_STATUS_QUERY, self.status_timeout)
        return PrinterStatus.from_reply(reply)

    def status(self) -> PrinterStatus:
        """Ask the printer for its status now (never raises: unreachable is a status)."""
        with self._lock:
            try:
                connection = self.transport.connect()
            except PrinterError as error:
                return self._remember(error.status)
            try:
                return self._remember(self._query_status(connection))
            except PrinterError as error:
                return self._remember(error.status)
            finally:
                connection.close()

    def identify(self) -> str | None:
        """The printer's ``~HI`` answer (model, firmware, dots/mm, memory), or None."""
        if not self.transport.has_status:
            return None
        with self._lock:
            connection = self.transport.connect()
            try:
                reply = connection.query(HOST_IDENTIFICATION_QUERY, self.status_timeout, 1)
            finally:
                connection.close()
        text = reply.strip(b"\x02\x03\r\n ").decode("ascii", errors="replace")
        return text or None

    def print_job(self, data: bytes, *, require_ready: bool = True) -> PrintResult:
        """Send one job; raises PrinterNotReady (nothing sent) or another PrinterError.

        With ``require_ready`` off the job is sent whatever the status says, for a "print
        anyway" the supervisor chose.
        """
        with self._lock:
            started = time.perf_counter()
            try:
                connection = self.transport.connect()
            except PrinterError as error:
                self._remember(error.status)
                raise
            try:
                before = self._remember(self._query_status(connection))
                if require_ready and not before.can_print:
                    raise PrinterNotReady(self.name, before)
                connection.write(data)
                connection.flush()
                sent = time.perf_counter()
                after = self._remember(self._query_status(connection))
            except PrinterError as error:
                self._remember(error.status)
                raise
            finally:
                connection.close()
            return PrintResult(
                bytes_sent=len(data),
                status_before=before,
                status_after=after,
                seconds_to_sent=sent - started,
                seconds_total=time.perf_counter() - started,
            )

    def health(self) -> DeviceHealth:
        """The printer as the admin page and supervisor dashboard show it."""
        status = self._last
        return DeviceHealth(
            name=self.name,
            kind="printer",
            state=_HEALTH.get(status.state, HealthState.DEVICE_FAULT),
            detail=status.message,
            last_seen=self._last_seen,
            parts={problem.value: problem.message for problem in status.problems},
        )
