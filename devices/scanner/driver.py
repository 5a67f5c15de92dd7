"""Serial scanner driver: one reader thread per scanner that frames, parses and reports scans.

The thread only reads, frames and parses; what a scan means is up to the app. A port that
cannot be opened or vanishes (USB-CDC scanner unplugged, device server rebooted) is reopened
with back-off; a partial line left when the port goes away is dropped, since the scanner will
not finish it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from devices.errors import ConfigError, TransportError
from devices.health import DeviceHealth, DeviceStateChanged, HealthState, WireFrame
from devices.scanner.codec import GarbledLine, LineFramer, Scan, ScanConfig, ScanError, parse_scan
from devices.transport import Backoff, ByteTransport, LineSettings

log = logging.getLogger(__name__)

#: A garbled line younger than this keeps the scanner in "warning" (wrong baud rate, noise).
GARBLED_WARNING_WINDOW = 30.0


@dataclass(frozen=True)
class ScannerConfig:
    """One serial scanner; ``from_options`` builds it from plain config."""

    name: str
    url: str
    line: LineSettings = field(default_factory=lambda: LineSettings(baudrate=9600))
    scan: ScanConfig = field(default_factory=ScanConfig)
    #: A partial line with no terminator for this long is reported and dropped.
    line_gap: float = 1.0
    read_timeout: float = 0.1
    reconnect_initial: float = 0.1
    reconnect_max: float = 5.0
    wire_log_size: int = 100

    @classmethod
    def from_options(cls, name: str, url: str, options: Mapping[str, Any]) -> ScannerConfig:
        """From plain config (baudrate, gs_substitutes, require_aim, line_gap, ...)."""
        opts = dict(options)
        line = LineSettings(
            baudrate=int(opts.pop("baudrate", 9600)),
            bytesize=int(opts.pop("bytesize", 8)),
            parity=str(opts.pop("parity", "N")),
            stopbits=float(opts.pop("stopbits", 1)),
        )
        scan = ScanConfig(
            gs_substitutes=tuple(str(s) for s in opts.pop("gs_substitutes", ())),
            require_aim=bool(opts.pop("require_aim", False)),
            max_length=int(opts.pop("max_length", 512)),
        )
        numbers = {
            k: opts.pop(k)
            for k in list(opts)
            if k in ("line_gap", "read_timeout", "reconnect_initial", "reconnect_max")
        }
        if opts:
            raise ConfigError(f"scanner {name}: unknown options {', '.join(sorted(opts))}")
        return cls(name=name, url=url, line=line, scan=scan, **numbers)


@dataclass(frozen=True)
class ScanRead:
    """A scan that decoded cleanly."""

    device: str
    scan: Scan
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class ScanRejected:
    """A line that is not a usable scan, with the reason to show at the station."""

    device: str
    raw: str
    reason: str
    garbled: bool
    at: float = field(default_factory=time.time)


ScannerEvent = ScanRead | ScanRejected | DeviceStateChanged


class SerialScanner:
    """A scanner on a serial line (or socket:// / rfc2217:// device server)."""

    def __init__(
        self, config: ScannerConfig, on_event: Callable[[ScannerEvent], None] | None = None
    ) -> None:
        self.config = config
        self.name = config.name
        self._on_event = on_event
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._transport = ByteTransport(config.url, config.line, timeout=config.read_timeout)
        self._backoff = Backoff(config.reconnect_initial, config.reconnect_max)
        self._framer = LineFramer(config.scan.max_length)
        self._connected = False
        self._detail = "starting"
        self._driver_fault = ""
        self._last_seen: float | None = None
        self._last_garbled = 0.0
        self._last_data = 0.0
        self._frames: deque[WireFrame] = deque(maxlen=config.wire_log_size)
        self._wire_log = logging.getLogger(f"devices.wire.{config.name}")
        self.counters = dict.fromkeys(
            ("scans", "rejected", "garbled", "reconnects", "driver_faults"), 0
        )

    def start(self) -> None:
        """Start the reader thread (the port is opened in the background)."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=f"scanner {self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop reading and close the port."""
        thread = self._thread
        if thread is None:
            return
        self._stopping.set()
        thread.join(timeout)
        self._thread = None

    def health(self) -> DeviceHealth:
        """A snapshot of the scanner's state and counters."""
        with self._lock:
            if self._driver_fault:
                state, detail = HealthState.DRIVER_FAULT, self._driver_fault
            elif not self._connected:
                state, detail = HealthState.DEVICE_FAULT, self._detail
            elif self._last_garbled and (
                time.monotonic() - self._last_garbled < GARBLED_WARNING_WINDOW
            ):
                state, detail = HealthState.WARNING, "garbled lines (check baud rate and cable)"
            else:
                state, detail = HealthState.OK, ""
            return DeviceHealth(
                name=self.name,
                kind="scanner",
                state=state,
                detail=detail,
                last_seen=self._last_seen,
                counters=dict(self.counters),
            )

    def wire_log(self) -> list[WireFrame]:
        """The most recent bytes received, oldest first."""
        with self._lock:
            return list(self._frames)

    # ------------------------------------------------------------------ internals

    def _emit(self, event: ScannerEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # a failing subscriber must not stop the reader
            log.exception("scanner %s: event handler failed for %r", self.name, event)

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    if not self._connected and not self._open():
                        continue
                    self._read_once()
                except TransportError as exc:
                    self._lose(str(exc))
                except Exception as exc:  # a bug must not end the thread: report, back off
                    log.exception("scanner %s: driver fault", self.name)
                    with self._lock:
                        self._driver_fault = f"driver fault: {exc!r}"
                        self.counters["driver_faults"] += 1
                    self._lose(self._driver_fault)
        finally:
            self._transport.close()
            with self._lock:
                self._connected = False
                self._detail = "stopped"

    def _open(self) -> bool:
        try:
            self._transport.open()
        except TransportError as exc:
            with self._lock:
                self._detail = str(exc)
            self._stopping.wait(self._backoff.next_delay())
            return False
        self._backoff.reset()
        self._framer = LineFramer(self.config.scan.max_length)
        with self._lock:
            self._connected = True
            self._detail = ""
            self._driver_fault = ""
        log.info("scanner %s: %s open", self.name, self.config.url)
        self._emit(DeviceStateChanged(self.name, HealthState.OK, "transport open"))
        return True

    def _lose(self, reason: str) -> None:
        self._transport.close()
        was = self._connected
        with self._lock:
            self._connected = False
            self._detail = f"transport lost: {reason}"
            if was:
                self.counters["reconnects"] += 1
        if was:
            log.warning("scanner %s: transport lost (%s); reopening", self.name, reason)
            self._emit(DeviceStateChanged(self.name, HealthState.DEVICE_FAULT, self._detail))
        self._stopping.wait(self._backoff.next_delay())

    def _read_once(self) -> None:
        data = self._transport.read(4096)
        now = time.monotonic()
        if data:
            self._last_data = now
            with self._lock:
                self._last_seen = time.time()
                self._frames.append(WireFrame(time.time(), "RX", data))
            if self._wire_log.isEnabledFor(logging.DEBUG):
                self._wire_log.debug("RX %s", data.hex(" "))
            for line in self._framer.feed(data):
                self._handle(line)
        elif self._framer.pending and now - self._last_data >= self.config.line_gap:
            stale = self._framer.flush()
            if stale is not None:
                text = stale.raw if isinstance(stale, ScanError) else stale.decode("latin-1")
                self._handle(GarbledLine(text, "incomplete line (no CR/LF suffix arrived)"))

    def _handle(self, line: bytes | GarbledLine) -> None:
        if isinstance(line, GarbledLine):
            self._reject(line)
            return
        try:
            scan = parse_scan(line, self.config.scan)
        except ScanError as exc:
            self._reject(exc)
            return
        with self._lock:
            self.counters["scans"] += 1
        self._emit(ScanRead(self.name, scan))

    def _reject(self, error: ScanError) -> None:
        garbled = isinstance(error, GarbledLine)
        with self._lock:
            self.counters["rejected"] += 1
            if garbled:
                self.counters["garbled"] += 1
                self._last_garbled = time.monotonic()
        log.info("scanner %s: rejected %s", self.name, error)
        self._emit(ScanRejected(self.name, error.raw, error.reason, garbled))
