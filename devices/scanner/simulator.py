"""A serial scanner simulator: "scans" values onto a real byte transport.

Two shapes, both what the app would see from real hardware:

- ``socket://HOST:PORT``: a serial device server in TCP-server mode (the scanner's RS-232 is
  behind it); the app connects with ``socket://`` and every scan is written to it;
- a serial path, e.g. the device end of a :class:`devices.socat.PtyPair`: a USB-CDC scanner.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType
from urllib.parse import urlsplit

from devices.errors import DeviceError
from devices.transport import ByteTransport, LineSettings

GS = b"\x1d"


def scan_line(data: str | bytes, symbology: str | None = "]C0", suffix: bytes = b"\r\n") -> bytes:
    """The bytes a scanner sends: AIM identifier, data (GS kept), suffix."""
    payload = data.encode("latin-1") if isinstance(data, str) else data
    prefix = symbology.encode("ascii") if symbology else b""
    return prefix + payload + suffix


class ScannerSimulator:
    """A scanner whose trigger is a method call."""

    def __init__(
        self,
        url: str,
        *,
        suffix: bytes = b"\r\n",
        line: LineSettings | None = None,
    ) -> None:
        self.url = url
        self.suffix = suffix
        self._line = line or LineSettings(baudrate=9600)
        self._lock = threading.Lock()
        self._server: socket.socket | None = None
        self._clients: list[socket.socket] = []
        self._accept_thread: threading.Thread | None = None
        self._serial: ByteTransport | None = None
        self.sent = 0

    @property
    def is_socket(self) -> bool:
        """Whether this simulator is a TCP device server rather than a serial port."""
        return self.url.startswith("socket://")

    def start(self) -> None:
        """Listen (socket://) or open the serial path."""
        if self.is_socket:
            if self._server is not None:
                return
            parts = urlsplit(self.url)
            server = socket.create_server((parts.hostname or "127.0.0.1", parts.port or 0))
            server.settimeout(0.1)
            self._server = server
            self._accept_thread = threading.Thread(
                target=self._accept, args=(server,), name=f"scanner-sim {self.url}", daemon=True
            )
            self._accept_thread.start()
        elif self._serial is None:
            self._serial = ByteTransport(self.url, self._line, timeout=0.1)
            self._serial.open()

    def stop(self) -> None:
        """Close everything: to the app this is the scanner being unplugged."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        if self._accept_thread is not None:
            self._accept_thread.join(5)
            self._accept_thread = None
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
            client.close()
        if self._serial is not None:
            self._serial.close()
            self._serial = None

    def connected(self) -> bool:
        """Whether an app is attached (always True for a serial path once open)."""
        if self.is_socket:
            with self._lock:
                return bool(self._clients)
        return self._serial is not None

    def scan(self, data: str | bytes, symbology: str | None = "]C0") -> None:
        """Scan a barcode: send its AIM identifier, data and suffix."""
        self.send_raw(scan_line(data, symbology, self.suffix))

    def send_raw(self, data: bytes) -> None:
        """Put arbitrary bytes on the line (noise, a partial line, a wrong suffix)."""
        if self.is_socket:
            with self._lock:
                clients = list(self._clients)
            if not clients:
                raise DeviceError(f"scanner simulator {self.url}: no app connected")
            for client in clients:
                try:
                    client.sendall(data)
                except OSError:  # that app went away; forget it
                    with self._lock:
                        if client in self._clients:
                            self._clients.remove(client)
                    client.close()
        else:
            if self._serial is None:
                raise DeviceError(f"scanner simulator {self.url} is not started")
            self._serial.write(data)
        self.sent += 1

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by stop()
                return
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                if self._server is None:
                    client.close()
                    return
                self._clients.append(client)

    def __enter__(self) -> ScannerSimulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """Scan each line typed on stdin (a manual demo peer); "|" stands for GS."""
    import argparse
    import sys
    import time

    parser = argparse.ArgumentParser(
        prog="python -m devices.scanner.simulator",
        description="Simulated serial scanner: every stdin line is scanned as a barcode.",
    )
    parser.add_argument("url", help="socket://127.0.0.1:15031 (device server) or a pty path")
    parser.add_argument("--aim", default="]C1", help="AIM identifier to prefix; '' for none")
    args = parser.parse_args(argv)
    sim = ScannerSimulator(args.url)
    sim.start()
    print(f"scanner on {args.url}; type a barcode per line (| = GS), Ctrl-D to end")
    try:
        for line in sys.stdin:
            data = line.rstrip("\r\n")
            if not data:
                continue
            try:
                sim.scan(data.replace("|", "\x1d"), args.aim or None)
                print("  scanned", flush=True)
            except DeviceError as exc:
                print(f"  ?? {exc}", flush=True)
                time.sleep(0.1)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
