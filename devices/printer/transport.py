"""Byte transports to a printer, opened from the URLs in config.yaml.

- ``tcp://host[:9100]``: raw ZPL on port 9100; the same socket answers ``~HS``.
- ``serial:PORT`` with PORT a device path or any pyserial URL (``serial:///dev/ttyS0``,
  ``serial:socket://host:port``, ``serial:rfc2217://...``), ``?baudrate=9600`` optional.
- ``cups://QUEUE``: a CUPS raw queue through the ``zebra`` package's ``output()`` (``lpr -o
  raw``); no status channel, so the driver reports the state as unknown.
- ``file:///folder``: each job written to a file, for development without a printer.

A connection lives for one job: ``~HS`` before, the job, ``~HS`` after, then close. A fresh
connection per job means a late status reply can never be read as the next job's status.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

from devices.errors import ConfigError, TransportError
from devices.printer.codec import ETX, HOST_STATUS_FRAMES
from devices.printer.errors import PrinterConnectionLost, PrinterUnreachable
from devices.transport import ByteTransport, LineSettings

wire = logging.getLogger("devices.printer.wire")

RAW_PORT = 9100


class PrinterConnection(Protocol):
    """One open connection to a printer."""

    def write(self, data: bytes) -> None:
        """Send bytes; raises PrinterConnectionLost."""

    def flush(self) -> None:
        """Make sure everything written is on its way (CUPS submits the job here)."""

    def query(self, command: bytes, timeout: float, frames: int = HOST_STATUS_FRAMES) -> bytes:
        """Send a query; return what arrived within ``timeout`` or once ``frames`` ETX came."""

    def close(self) -> None:
        """Close; safe to call twice."""


class PrinterTransport(Protocol):
    """How to reach one printer."""

    @property
    def url(self) -> str:
        """Where the printer is, as configured."""

    @property
    def has_status(self) -> bool:
        """Whether the printer can answer ``~HS`` over this transport."""

    def connect(self) -> PrinterConnection:
        """Open a connection; raises PrinterUnreachable."""


def _frames_done(buffer: bytes | bytearray, frames: int) -> bool:
    return bytes(buffer).count(ETX) >= frames


class _SocketConnection:
    def __init__(self, url: str, sock: socket.socket, io_timeout: float) -> None:
        self._url = url
        self._sock = sock
        self._io_timeout = io_timeout
        self._closed = False

    def write(self, data: bytes) -> None:
        wire.debug("%s -> %d bytes: %r", self._url, len(data), data[:200])
        try:
            self._sock.settimeout(self._io_timeout)
            self._sock.sendall(data)
        except OSError as error:
            raise PrinterConnectionLost(self._url, f"send failed: {error}") from error

    def flush(self) -> None:
        return None  # sendall returned: the kernel has every byte

    def query(self, command: bytes, timeout: float, frames: int = HOST_STATUS_FRAMES) -> bytes:
        self.write(command)
        deadline = time.monotonic() + timeout
        reply = bytearray()
        while not _frames_done(reply, frames):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                self._sock.settimeout(remaining)
                chunk = self._sock.recv(4096)
            except TimeoutError:
                break
            except OSError as error:
                raise PrinterConnectionLost(self._url, f"receive failed: {error}") from error
            if not chunk:
                break
            reply += chunk
        wire.debug("%s <- %r", self._url, bytes(reply))
        return bytes(reply)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            # Half-close, then read to EOF so the printer's own close cannot reset a job
            # still in its receive buffer.
            self._sock.shutdown(socket.SHUT_WR)
            self._sock.settimeout(1.0)
            while self._sock.recv(4096):
                pass
        except OSError:
            pass
        finally:
            self._sock.close()


class RawTcpTransport:
    """Raw ZPL over TCP (port 9100)."""

    has_status = True

    def __init__(
        self,
        host: str,
        port: int = RAW_PORT,
        *,
        connect_timeout: float = 3.0,
        io_timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.io_timeout = io_timeout

    @property
    def url(self) -> str:
        """``tcp://host:port``."""
        return f"tcp://{self.host}:{self.port}"

    def connect(self) -> _SocketConnection:
        """Open a TCP connection to the printer."""
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except OSError as error:
            raise PrinterUnreachable(self.url, f"connect failed: {error}") from error
        # Labels are small: send each write at once instead of waiting to coalesce.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _SocketConnection(self.url, sock, self.io_timeout)


class _SerialConnection:
    def __init__(self, url: str, port: ByteTransport) -> None:
        self._url = url
        self._port = port

    def write(self, data: bytes) -> None:
        wire.debug("%s -> %d bytes: %r", self._url, len(data), data[:200])
        try:
            self._port.write(data)
        except TransportError as error:
            raise PrinterConnectionLost(self._url, error.reason) from error

    def flush(self) -> None:
        return None  # ByteTransport.write flushes

    def query(self, command: bytes, timeout: float, frames: int = HOST_STATUS_FRAMES) -> bytes:
        self.write(command)
        deadline = time.monotonic() + timeout
        reply = bytearray()
        while not _frames_done(reply, frames) and time.monotonic() < deadline:
            try:
                reply += self._port.read(4096)
            except TransportError as error:
                raise PrinterConnectionLost(self._url, error.reason) from error
        wire.debug("%s <- %r", self._url, bytes(reply))
        return bytes(reply)

    def close(self) -> None:
        self._port.close()


class SerialTransport:
    """A printer on a serial port or a serial device server (any pyserial URL)."""

    has_status = True

    def __init__(self, port: str, settings: LineSettings | None = None) -> None:
        self.port = port
        # Zebra's serial default is 9600 8N1.
        self.settings = settings or LineSettings(baudrate=9600)

    @property
    def url(self) -> str:
        """``serial:`` and the port."""
        return f"serial:{self.port}"

    def connect(self) -> _SerialConnection:
        """Open the port."""
        port = ByteTransport(self.port, self.settings, timeout=0.05, write_timeout=10.0)
        try:
            port.open()
        except TransportError as error:
            raise PrinterUnreachable(self.url, error.reason) from error
        return _SerialConnection(self.url, port)


class _BufferedConnection:
    """Collects a job and hands it over whole on ``flush``; no status channel."""

    def __init__(self, url: str, submit: _Submit) -> None:
        self._url = url
        self._submit = submit
        self._buffer = bytearray()

    def write(self, data: bytes) -> None:
        self._buffer += data

    def flush(self) -> None:
        if self._buffer:
            data, self._buffer = bytes(self._buffer), bytearray()
            wire.debug("%s -> %d bytes: %r", self._url, len(data), data[:200])
            self._submit(data)

    def query(self, command: bytes, timeout: float, frames: int = HOST_STATUS_FRAMES) -> bytes:
        return b""

    def close(self) -> None:
        self._buffer = bytearray()  # never submit half a job


class _Submit(Protocol):
    def __call__(self, data: bytes) -> None: ...


class CupsRawTransport:
    """A CUPS raw queue, through the PyPI ``zebra`` package's ``output()`` (``lpr -o raw``)."""

    has_status = False

    def __init__(self, queue: str) -> None:
        if not queue:
            raise ConfigError("a CUPS printer needs a queue name")
        self.queue = queue

    @property
    def url(self) -> str:
        """``cups://queue``."""
        return f"cups://{self.queue}"

    def connect(self) -> _BufferedConnection:
        """A connection that submits the job to the queue on flush."""
        return _BufferedConnection(self.url, self._submit)

    def _submit(self, data: bytes) -> None:
        from zebra import Zebra  # the zebra package imports win32print on Windows

        try:
            # zebra discards lpr's exit status: a missing lpr is the only failure it shows.
            Zebra(self.queue).output(data)  # type: ignore[no-untyped-call]
        except OSError as error:
            raise PrinterUnreachable(self.url, f"lpr failed: {error}") from error

    def queue_exists(self) -> bool:
        """Whether CUPS lists the queue (``lpstat -p`` through ``zebra``)."""
        from zebra import Zebra

        try:
            queues: list[str] = Zebra().getqueues()  # type: ignore[no-untyped-call]
            return self.queue in queues
        except OSError:
            return False


class FileTransport:
    """Writes each job to ``folder/<time>-<n>.zpl``, for development and demos."""

    has_status = False
    _counter = 0
    _lock = threading.Lock()

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def url(self) -> str:
        """``file://`` and the folder."""
        return self.folder.as_uri()

    def connect(self) -> _BufferedConnection:
        """A connection that writes the job to a new file on flush."""
        if not self.folder.is_dir():
            raise PrinterUnreachable(self.url, "folder does not exist")
        return _BufferedConnection(self.url, self._write)

    def _write(self, data: bytes) -> None:
        with FileTransport._lock:
            FileTransport._counter += 1
            name = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{FileTransport._counter}.zpl"
        # Write then rename, so a watcher never sees half a job.
        with tempfile.NamedTemporaryFile(dir=self.folder, delete=False, suffix=".part") as out:
            out.write(data)
        os.replace(out.name, self.folder / name)


def transport_from_url(url: str) -> PrinterTransport:
    """The transport for a printer URL from config.yaml."""
    if url.startswith("serial:"):
        rest = url.removeprefix("serial:")
        target, _, query = rest.partition("?")
        if target.startswith("///"):
            target = target[2:]  # serial:///dev/ttyS0 -> /dev/ttyS0
        if not target:
            raise ConfigError(f"{url}: no serial port")
        options = parse_qs(query)
        baudrate = int(options.get("baudrate", ["9600"])[0])
        return SerialTransport(target, LineSettings(baudrate=baudrate))
    parts = urlsplit(url)
    if parts.scheme == "tcp":
        if not parts.hostname:
            raise ConfigError(f"{url}: no host")
        return RawTcpTransport(parts.hostname, parts.port or RAW_PORT)
    if parts.scheme == "cups":
        return CupsRawTransport(parts.netloc or parts.path.strip("/"))
    if parts.scheme == "file":
        return FileTransport(Path(parts.path))
    raise ConfigError(f"{url}: printer URLs are tcp://, serial:, cups:// or file://")
