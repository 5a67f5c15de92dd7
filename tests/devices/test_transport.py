"""Byte transports from URLs: loop://, socket:// and a socat pty pair, and their typed errors."""

from __future__ import annotations

import socket
import threading

import pytest

from devices.errors import TransportGone, TransportOpenError
from devices.socat import PtyPair
from devices.transport import Backoff, ByteTransport
from tests.devices.conftest import free_port, needs_socat


def read_exactly(transport: ByteTransport, size: int) -> bytes:
    """Read until ``size`` bytes arrived or a read times out."""
    data = b""
    while len(data) < size:
        chunk = transport.read(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def test_loop_url_echoes_bytes() -> None:
    with ByteTransport("loop://", timeout=0.5) as transport:
        transport.write(b"]C0ABC\r\n")
        assert read_exactly(transport, 8) == b"]C0ABC\r\n"
        assert transport.read() == b""  # timeout, nothing more


def test_open_missing_port_is_a_typed_error() -> None:
    with pytest.raises(TransportOpenError, match="cannot open"):
        ByteTransport("/dev/does-not-exist-wms").open()
    with pytest.raises(TransportOpenError):
        ByteTransport(f"socket://127.0.0.1:{free_port()}").open()


def test_socket_peer_closing_raises_transport_gone() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        accepted: list[socket.socket] = []
        thread = threading.Thread(target=lambda: accepted.append(server.accept()[0]))
        thread.start()
        transport = ByteTransport(f"socket://127.0.0.1:{port}", timeout=2.0)
        transport.open()
        thread.join(5)
        peer = accepted[0]
        try:
            peer.sendall(b"hello")
            assert read_exactly(transport, 5) == b"hello"
            transport.write(b"ping")
            assert peer.recv(4) == b"ping"
        finally:
            peer.close()
        with pytest.raises(TransportGone):
            transport.read()
        assert not transport.is_open
        transport.close()  # idempotent after the port vanished


@needs_socat
def test_pty_pair_carries_bytes_and_unplugging_is_transport_gone() -> None:
    with PtyPair() as pair:
        device = ByteTransport(pair.device_end, timeout=1.0)
        host = ByteTransport(pair.host_end, timeout=1.0)
        with device, host:
            line = b"]C1001234\x1d21X\r\n"
            device.write(line)
            assert read_exactly(host, len(line)) == line
            pair.stop()
            with pytest.raises(TransportGone):
                host.read()
            with pytest.raises(TransportOpenError):
                ByteTransport(pair.host_end).open()


def test_backoff_doubles_to_a_cap_and_resets() -> None:
    backoff = Backoff(initial=0.1, maximum=0.5)
    assert [backoff.next_delay() for _ in range(5)] == pytest.approx([0.1, 0.2, 0.4, 0.5, 0.5])
    backoff.reset()
    assert backoff.next_delay() == pytest.approx(0.1)
