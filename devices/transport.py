"""Byte transports opened from a URL: real serial ports, serial device servers and test loops.

Everything pyserial's ``serial_for_url`` understands works here: ``/dev/ttyUSB0`` (and a socat
pty), ``socket://host:port`` and ``rfc2217://host:port`` (serial device servers on the network),
``loop://`` (echo, for unit tests) and ``spy://`` (a hex trace of a native port). pyserial
reports a vanished port through several exception types; they become one typed
:class:`~devices.errors.TransportGone` here so drivers need a single ``except``.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, cast

import serial

from devices.errors import TransportGone, TransportOpenError

log = logging.getLogger(__name__)

try:
    import termios

    _TERMIOS_ERRORS: tuple[type[Exception], ...] = (termios.error,)
except ImportError:  # Windows has no termios
    _TERMIOS_ERRORS = ()

#: What a vanished pyserial port raises: SerialException (an OSError), termios.error from the
#: input flush on a hung-up tty (a pulled USB adapter, a stopped socat), and AttributeError or
#: TypeError from the socket:// handler when its socket was closed under it.
PORT_ERRORS: tuple[type[Exception], ...] = (OSError, AttributeError, TypeError, *_TERMIOS_ERRORS)


@dataclass(frozen=True)
class LineSettings:
    """Serial line settings; ignored by ``socket://`` and ``loop://``."""

    baudrate: int = 19200
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1


def open_serial(
    url: str,
    settings: LineSettings | None = None,
    *,
    timeout: float = 0.1,
    write_timeout: float = 1.0,
) -> serial.SerialBase:
    """Open a pyserial port from a URL, raising TransportOpenError when it is not there."""
    line = settings or LineSettings()
    try:
        port = serial.serial_for_url(
            url,
            do_not_open=True,
            baudrate=line.baudrate,
            bytesize=line.bytesize,
            parity=line.parity,
            stopbits=line.stopbits,
            timeout=timeout,
            write_timeout=write_timeout,
            # Two drivers on one RS-485 adapter would garble each other's frames.
            exclusive=True,
        )
    except (OSError, ValueError) as exc:  # SerialException is an OSError
        raise TransportOpenError(url, f"cannot open: {exc}") from exc
    try:
        port.open()
    except (OSError, ValueError) as exc:
        # open() can fail after the socket/fd exists (socket:// flushes input on connect and
        # a peer that resets right away makes that raise): close it or it leaks.
        close_port(port)
        raise TransportOpenError(url, f"cannot open: {exc}") from exc
    return port


def close_port(port: serial.SerialBase) -> None:
    """Close a pyserial port for good, whatever state it is in.

    pyserial 3.5's ``socket://`` handler skips ``socket.close()`` when ``shutdown()`` fails
    (a peer that already reset the connection), leaking the descriptor; close it here too.
    """
    sock = getattr(port, "_socket", None)
    try:
        port.close()
    except PORT_ERRORS as exc:  # a vanished port; gone either way
        log.debug("closing %s: %s", port.port, exc)
    finally:
        if isinstance(sock, socket.socket):
            sock.close()


class _Readable(Protocol):
    """What every pyserial port class offers (the stubs leave in_waiting off SerialBase)."""

    @property
    def in_waiting(self) -> int: ...

    def read(self, size: int = 1) -> bytes: ...


def read_available(port: serial.SerialBase, size: int) -> bytes:
    """Wait up to the port timeout for a first byte, then take what has arrived (no more waits).

    pyserial's ``socket://`` reports ``in_waiting`` as 0 or 1 rather than a byte count, so a
    loop that trusts it as a count and sleeps between polls crawls (pymodbus's stock receive
    path does that: ~46 frames/s over ``socket://``); reading until nothing is waiting is
    correct for every handler.
    """
    readable = cast(_Readable, port)
    first = readable.read(1)
    if not first:
        return b""
    buf = bytearray(first)
    while len(buf) < size and (waiting := readable.in_waiting):
        buf += readable.read(min(waiting, size - len(buf)))
    return bytes(buf)


class ByteTransport:
    """A byte stream from a URL whose failures are TransportOpenError / TransportGone."""

    def __init__(
        self,
        url: str,
        settings: LineSettings | None = None,
        *,
        timeout: float = 0.1,
        write_timeout: float = 1.0,
    ) -> None:
        self.url = url
        self.settings = settings or LineSettings()
        self.timeout = timeout
        self.write_timeout = write_timeout
        self._port: serial.SerialBase | None = None

    @property
    def is_open(self) -> bool:
        """Whether the port is open (it may still have vanished since the last I/O)."""
        return self._port is not None and bool(self._port.is_open)

    def open(self) -> None:
        """Open the port; raises TransportOpenError."""
        if self._port is None:
            self._port = open_serial(
                self.url, self.settings, timeout=self.timeout, write_timeout=self.write_timeout
            )

    def close(self) -> None:
        """Close the port; safe to call twice and after the port vanished."""
        port, self._port = self._port, None
        if port is not None:
            close_port(port)

    def read(self, size: int = 4096) -> bytes:
        """Return up to ``size`` bytes, or b"" when nothing arrived within the timeout."""
        port = self._require()
        try:
            return read_available(port, size)
        except PORT_ERRORS as exc:
            self.close()
            raise TransportGone(self.url, f"read failed: {exc}") from exc

    def write(self, data: bytes) -> None:
        """Write all of ``data``; raises TransportGone."""
        port = self._require()
        try:
            port.write(data)
            port.flush()
        except PORT_ERRORS as exc:
            self.close()
            raise TransportGone(self.url, f"write failed: {exc}") from exc

    def _require(self) -> serial.SerialBase:
        if self._port is None:
            raise TransportGone(self.url, "not open")
        return self._port

    def __enter__(self) -> ByteTransport:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Backoff:
    """Exponential back-off for reconnects and unit retries: 0.1 s, 0.2 s, ... up to a cap."""

    def __init__(self, initial: float = 0.1, maximum: float = 5.0, factor: float = 2.0) -> None:
        if initial <= 0 or maximum < initial or factor < 1:
            raise ValueError("back-off needs 0 < initial <= maximum and factor >= 1")
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self._next = initial

    def next_delay(self) -> float:
        """The delay before the next attempt; each call lengthens the following one."""
        delay = self._next
        self._next = min(self._next * self.factor, self.maximum)
        return delay

    def reset(self) -> None:
        """Start again from the initial delay (after a success)."""
        self._next = self.initial
