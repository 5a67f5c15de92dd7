"""A simulated Zebra printer on 127.0.0.1: keeps every job, answers ``~HS`` and ``~HI``.

It plugs in where the printer's socket would be, so the real driver and transport run against
it. Faults are switched on and off from the test or the demo: paper out, paused, head open,
ribbon out, silent (no answer at all), and ``no_reply_on_error`` for firmware that stays silent
while paper is out, the ribbon is out or the head is open (reference C.5).

Job boundaries: everything between two status queries on a connection, or up to its close, is
one job (the driver sends ``~HS``, the job, ``~HS``). A job is stored before the query after it
is answered, so when the driver has its "after" status the job is already here.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import TracebackType

from devices.printer.codec import (
    HOST_IDENTIFICATION_QUERY,
    HOST_STATUS_QUERY,
    HostStatus,
    encode_host_status,
)

log = logging.getLogger(__name__)

IDENTIFICATION = b"\x02ZD621-203dpi,V93.21.26Z,8,8192KB\x03\r\n"
_QUERIES = (HOST_STATUS_QUERY, HOST_IDENTIFICATION_QUERY)
_FORMAT = re.compile(rb"\^XA.*?\^XZ", re.DOTALL)


@dataclass(frozen=True)
class ReceivedJob:
    """One job as it arrived: its bytes, the connection it came on, and the printer's state."""

    data: bytes
    connection: int
    received_at: float
    printer_ready: bool

    @property
    def labels(self) -> list[bytes]:
        """The ``^XA...^XZ`` formats in the job."""
        return _FORMAT.findall(self.data)


class SimulatedZebraPrinter:
    """A TCP server thread that behaves like a Zebra on port 9100; use it as a context manager."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, reply_delay: float = 0.0):
        self._host = host
        self._port = port
        self.reply_delay = reply_delay
        self._status = HostStatus()
        self.silent = False
        self.no_reply_on_error = False
        #: Called with each job as it is stored, before the next query is answered; a test can
        #: use it to fail the printer "while it prints".
        self.on_job: Callable[[ReceivedJob], None] | None = None
        self._jobs: list[ReceivedJob] = []
        self._queries = 0
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._accepter: threading.Thread | None = None
        self._clients: dict[int, tuple[socket.socket, threading.Thread]] = {}
        self._next_connection = 0

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Listen on the host and port (port 0: any free port) and serve in threads."""
        if self._listener is not None:
            return
        self._stopping.clear()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self._host, self._port))
        listener.listen(16)
        listener.settimeout(0.1)
        self._port = listener.getsockname()[1]
        self._listener = listener
        self._accepter = threading.Thread(target=self._accept, name="zebra-sim", daemon=True)
        self._accepter.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening, close every connection and join every thread."""
        self._stopping.set()
        if self._accepter is not None:
            self._accepter.join(timeout)
            self._accepter = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._changed:
            clients = list(self._clients.values())
        for sock, _ in clients:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for _, thread in clients:
            thread.join(timeout)

    def __enter__(self) -> SimulatedZebraPrinter:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The TCP port it listens on."""
        return self._port

    @property
    def url(self) -> str:
        """The printer URL for config.yaml: ``tcp://127.0.0.1:PORT``."""
        return f"tcp://{self._host}:{self._port}"

    # --- faults -----------------------------------------------------------------------------

    @property
    def host_status(self) -> HostStatus:
        """The status it reports to ``~HS``."""
        return self._status

    def set_status(self, **changes: bool | int) -> None:
        """Change reported fields, e.g. ``set_status(paper_out=True, paused=True)``."""
        with self._changed:
            self._status = replace(self._status, **changes)  # type: ignore[arg-type]

    def set_paper_out(self, value: bool = True) -> None:
        """Run out of labels (a Zebra pauses too) or load them again."""
        self.set_status(paper_out=value, paused=value)

    def set_head_open(self, value: bool = True) -> None:
        """Open or close the print head."""
        self.set_status(head_open=value)

    def set_paused(self, value: bool = True) -> None:
        """Press or release pause."""
        self.set_status(paused=value)

    def set_ribbon_out(self, value: bool = True) -> None:
        """Run out of ribbon or load it."""
        self.set_status(ribbon_out=value)

    def ready(self) -> None:
        """Clear every fault and answer again."""
        with self._changed:
            self._status = HostStatus()
            self.silent = False

    @property
    def is_ready(self) -> bool:
        """Whether it would print now."""
        s = self._status
        return not (s.paper_out or s.paused or s.head_open or s.ribbon_out or self.silent)

    # --- what it received -------------------------------------------------------------------

    @property
    def jobs(self) -> list[ReceivedJob]:
        """Every job received, oldest first."""
        with self._changed:
            return list(self._jobs)

    @property
    def labels(self) -> list[bytes]:
        """Every ``^XA...^XZ`` format received, oldest first."""
        return [label for job in self.jobs for label in job.labels]

    @property
    def status_queries(self) -> int:
        """How many ``~HS`` / ``~HI`` queries arrived (answered or not)."""
        return self._queries

    def wait_for_jobs(self, count: int, timeout: float = 5.0) -> list[ReceivedJob]:
        """Wait until ``count`` jobs have arrived; returns them (fewer on timeout)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._jobs) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            return list(self._jobs)

    def clear(self) -> None:
        """Forget the jobs received so far."""
        with self._changed:
            self._jobs.clear()

    # --- server -----------------------------------------------------------------------------

    def _accept(self) -> None:
        listener = self._listener
        assert listener is not None
        while not self._stopping.is_set():
            try:
                sock, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            with self._changed:
                self._next_connection += 1
                number = self._next_connection
                thread = threading.Thread(
                    target=self._serve,
                    args=(sock, number),
                    name=f"zebra-sim-{number}",
                    daemon=True,
                )
                self._clients[number] = (sock, thread)
            thread.start()

    def _serve(self, sock: socket.socket, number: int) -> None:
        pending = bytearray()
        buffer = b""
        try:
            sock.settimeout(0.2)
            while not self._stopping.is_set():
                try:
                    chunk = sock.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                buffer = self._consume(sock, number, buffer + chunk, pending)
            pending += buffer
            self._store(number, pending)
        finally:
            sock.close()
            with self._changed:
                self._clients.pop(number, None)

    def _consume(self, sock: socket.socket, number: int, data: bytes, pending: bytearray) -> bytes:
        """Act on queries in ``data``; returns a tail that may be the start of a query."""
        position = 0
        while True:
            found = [(data.find(q, position), q) for q in _QUERIES]
            hits = [(index, query) for index, query in found if index >= 0]
            if not hits:
                break
            index, query = min(hits)
            pending += data[position:index]
            position = index + len(query)
            self._store(number, pending)
            pending.clear()
            self._answer(sock, query)
        rest = data[position:]
        # Keep a trailing "~" or "~H" back: the query may be split across two reads.
        keep = next((n for n in (2, 1) if rest.endswith(HOST_STATUS_QUERY[:n])), 0)
        pending += rest[: len(rest) - keep]
        return rest[len(rest) - keep :] if keep else b""

    def _store(self, number: int, pending: bytearray) -> None:
        if not pending.strip():
            return
        job = ReceivedJob(bytes(pending), number, time.time(), self.is_ready)
        if self.on_job is not None:
            self.on_job(job)
        with self._changed:
            self._jobs.append(job)
            self._changed.notify_all()
        log.debug("simulated printer: job of %d bytes on connection %d", len(job.data), number)

    def _answer(self, sock: socket.socket, query: bytes) -> None:
        with self._changed:
            self._queries += 1
            status = self._status
            silent = self.silent or (
                self.no_reply_on_error
                and (status.paper_out or status.ribbon_out or status.head_open)
            )
        if silent:
            return
        if self.reply_delay:
            time.sleep(self.reply_delay)
        reply = encode_host_status(status) if query == HOST_STATUS_QUERY else IDENTIFICATION
        with contextlib.suppress(OSError):
            sock.sendall(reply)
