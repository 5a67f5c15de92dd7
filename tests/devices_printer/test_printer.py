"""The driver and transports against the simulated Zebra printer over real TCP (and pyserial)."""

from __future__ import annotations

import os
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.errors import ConfigError
from devices.health import HealthState
from devices.printer.codec import PrinterState
from devices.printer.driver import ZebraPrinter
from devices.printer.errors import PrinterNotReady, PrinterUnreachable
from devices.printer.simulator import ReceivedJob, SimulatedZebraPrinter
from devices.printer.transport import (
    CupsRawTransport,
    FileTransport,
    RawTcpTransport,
    SerialTransport,
    transport_from_url,
)

STATUS_TIMEOUT = 0.5
JOB = b"^XA^CI28^PW812^LL1218^FO30,30^A0N,40,40^FH_^FDParcel 1 _5E 2^FS^XZ\n"


@pytest.fixture
def simulator() -> Iterator[SimulatedZebraPrinter]:
    with SimulatedZebraPrinter() as printer:
        yield printer


@pytest.fixture
def printer(simulator: SimulatedZebraPrinter) -> ZebraPrinter:
    return ZebraPrinter(transport_from_url(simulator.url), status_timeout=STATUS_TIMEOUT)


def binary_job(size: int) -> bytes:
    # Every byte value but "~", which would start a control command on a real printer too.
    alphabet = bytes(b for b in range(256) if b != ord("~"))
    return b"^XA^FO0,0^GFA,1,1,1,:" + (alphabet * (size // len(alphabet) + 1))[:size] + b"^XZ"


def test_job_is_delivered_byte_exact_between_two_status_checks(
    simulator: SimulatedZebraPrinter, printer: ZebraPrinter
) -> None:
    result = printer.print_job(JOB)
    assert result.status_before.state is PrinterState.READY
    assert result.status_after.state is PrinterState.READY
    assert result.bytes_sent == len(JOB)
    assert [job.data for job in simulator.jobs] == [JOB]
    assert simulator.labels == [JOB.strip()]
    assert simulator.status_queries == 2


def test_a_megabyte_of_every_byte_value_arrives_intact(
    simulator: SimulatedZebraPrinter, printer: ZebraPrinter
) -> None:
    job = binary_job(1_000_000)
    printer.print_job(job)
    assert simulator.jobs[0].data == job


def test_jobs_from_several_threads_arrive_whole(
    simulator: SimulatedZebraPrinter, printer: ZebraPrinter
) -> None:
    jobs = [f"^XA^FO0,0^FDjob {n:03d}^FS^XZ".encode() * 50 for n in range(24)]
    errors: list[BaseException] = []

    def send(part: list[bytes]) -> None:
        try:
            for job in part:
                printer.print_job(job)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=send, args=(jobs[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert sorted(job.data for job in simulator.jobs) == sorted(jobs)


@pytest.mark.parametrize(
    ("fault", "state"),
    [
        ("set_paper_out", PrinterState.PAPER_OUT),
        ("set_head_open", PrinterState.HEAD_OPEN),
        ("set_paused", PrinterState.PAUSED),
        ("set_ribbon_out", PrinterState.RIBBON_OUT),
    ],
)
def test_fault_is_reported_and_the_job_is_kept_back(
    simulator: SimulatedZebraPrinter, printer: ZebraPrinter, fault: str, state: PrinterState
) -> None:
    getattr(simulator, fault)()
    assert printer.status().state is state
    with pytest.raises(PrinterNotReady) as raised:
        printer.print_job(JOB)
    assert raised.value.status.state is state
    assert simulator.jobs == []
    assert printer.health().state in (HealthState.WARNING, HealthState.DEVICE_FAULT)
    simulator.ready()
    assert printer.print_job(JOB).status_before.state is PrinterState.READY
    assert printer.health().state is HealthState.OK


def test_paper_out_also_reports_pause(
    simulator: SimulatedZebraPrinter, printer: ZebraPrinter
) -> None:
    simulator.set_paper_out()
    status = printer.status()
    assert status.problems == (PrinterState.PAPER_OUT, PrinterState.PAUSED)
    assert status.host_status is not None and status.host_status.paper_out


def test_silent_printer_is_in_an_error_state_within_the_timeout(
    simulator: SimulatedZebraPrinter, printer: ZebraPrinter
) -> None:
    simulator.silent = True
    started = time.monotonic()
    status = printer.status()
    elapsed = time.monotonic() - started
    assert status.state is PrinterState.NO_REPLY and not status.can_print
    assert STATUS_TIMEOUT * 0.9 <= elapsed < STATUS_TIMEOUT + 2.0
    with pytest.raises(PrinterNotReady) as raised:
        printer.print_job(JOB)
    assert raised.value.status.state is PrinterState.NO_REPLY
    assert simulator.jobs == []
    assert printer.health().state is HealthState.DEVICE_FAULT


def test_firmware_that_goes_silent_on_head_open(
    simulator: SimulatedZebraPrinter, printer: ZebraPrinter
) -> None:
    simulator.no_reply_on_error = True
    simulator.set_head_open()
    assert printer.status().state is PrinterState.NO_REPLY
    simulator.set_head_open(False)
    assert printer.status().state is PrinterState.READY


def test_fault_during_the_job_shows_in_the_status_after(
    simulator: SimulatedZebraPrinter, printer: ZebraPrinter
) -> None:
    def run_out(job: ReceivedJob) -> None:
        simulator.set_paper_out()

    simulator.on_job = run_out
    result = printer.print_job(JOB)
    assert result.status_before.state is PrinterState.READY
    assert result.status_after.state is PrinterState.PAPER_OUT
    assert [job.data for job in simulator.jobs] == [JOB]


def test_print_anyway_sends_while_not_ready(
    simulator: SimulatedZebraPrinter, printer: ZebraPrinter
) -> None:
    simulator.set_paused()
    result = printer.print_job(JOB, require_ready=False)
    assert result.status_before.state is PrinterState.PAUSED
    (job,) = simulator.jobs
    assert job.data == JOB and not job.printer_ready


def test_unreachable_printer(simulator: SimulatedZebraPrinter) -> None:
    url = simulator.url
    simulator.stop()
    printer = ZebraPrinter(transport_from_url(url), status_timeout=STATUS_TIMEOUT)
    assert printer.status().state is PrinterState.UNREACHABLE
    with pytest.raises(PrinterUnreachable):
        printer.print_job(JOB)
    health = printer.health()
    assert health.state is HealthState.DEVICE_FAULT and health.last_seen is None


def test_identify(printer: ZebraPrinter) -> None:
    assert printer.identify() == "ZD621-203dpi,V93.21.26Z,8,8192KB"


def test_status_query_split_across_packets_is_answered(simulator: SimulatedZebraPrinter) -> None:
    with socket.create_connection(("127.0.0.1", simulator.port), timeout=5) as sock:
        sock.sendall(b"^XA^FDa^FS^XZ~")
        time.sleep(0.05)
        sock.sendall(b"H")
        time.sleep(0.05)
        sock.sendall(b"S")
        reply = b""
        while reply.count(b"\x03") < 3:
            chunk = sock.recv(1024)
            assert chunk
            reply += chunk
    assert reply.startswith(b"\x02030,0,0")
    assert [job.data for job in simulator.wait_for_jobs(1)] == [b"^XA^FDa^FS^XZ"]


def test_simulator_stops_cleanly_with_clients_still_connected() -> None:
    before = threading.active_count()
    simulator = SimulatedZebraPrinter()
    simulator.start()
    idle = socket.create_connection(("127.0.0.1", simulator.port), timeout=5)
    idle.sendall(b"^XA^FDkept^FS^XZ~HS")
    reply = b""
    while reply.count(b"\x03") < 3:
        reply += idle.recv(1024)
    idle.sendall(b"^XA^FDunfinished")  # the client then stays connected, silent
    started = time.monotonic()
    simulator.stop()
    assert time.monotonic() - started < 3
    idle.close()
    assert threading.active_count() == before
    assert simulator.jobs[0].data == b"^XA^FDkept^FS^XZ"


def test_serial_transport_through_pyserial_socket_url(simulator: SimulatedZebraPrinter) -> None:
    transport = transport_from_url(f"serial:socket://127.0.0.1:{simulator.port}")
    assert isinstance(transport, SerialTransport)
    printer = ZebraPrinter(transport, status_timeout=STATUS_TIMEOUT)
    job = binary_job(50_000)
    result = printer.print_job(job)
    assert result.status_after.state is PrinterState.READY
    assert [j.data for j in simulator.jobs] == [job]
    simulator.set_head_open()
    assert printer.status().state is PrinterState.HEAD_OPEN
    simulator.silent = True
    assert printer.status().state is PrinterState.NO_REPLY


def test_serial_port_that_does_not_exist_is_unreachable(tmp_path: Path) -> None:
    printer = ZebraPrinter(transport_from_url(f"serial://{tmp_path}/ttyNONE"))
    assert printer.status().state is PrinterState.UNREACHABLE


@pytest.fixture
def fake_lpr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in ``lpr`` first on PATH that records its arguments and stdin (CUPS is not run)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    out = tmp_path / "spool"
    out.mkdir()
    script = bin_dir / "lpr"
    script.write_text(
        f'#!/bin/sh\nn=$(ls "{out}" | wc -l)\necho "$@" > "{out}/$n.args"\ncat > "{out}/$n.job"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return out


def test_cups_queue_gets_the_job_through_zebra_output(fake_lpr: Path) -> None:
    transport = transport_from_url("cups://zebra_pack1")
    assert isinstance(transport, CupsRawTransport)
    printer = ZebraPrinter(transport)
    job = binary_job(20_000)
    result = printer.print_job(job)
    assert result.status_before.state is PrinterState.UNKNOWN
    assert (fake_lpr / "0.job").read_bytes() == job
    assert (fake_lpr / "0.args").read_text().split() == ["-Pzebra_pack1", "-oraw"]
    assert printer.health().state is HealthState.OK


def test_cups_without_lpr_is_unreachable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PrinterUnreachable, match="lpr"):
        ZebraPrinter(transport_from_url("cups://q")).print_job(JOB)


def test_cups_queue_check_without_cups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert CupsRawTransport("q").queue_exists() in (False, True)  # never raises


def test_file_transport_writes_each_job(tmp_path: Path) -> None:
    printer = ZebraPrinter(transport_from_url(tmp_path.as_uri()))
    printer.print_job(JOB)
    printer.print_job(JOB + JOB)
    files = sorted(tmp_path.glob("*.zpl"), key=lambda p: p.stat().st_mtime_ns)
    assert sorted(p.read_bytes() for p in files) == sorted([JOB, JOB + JOB])
    assert not list(tmp_path.glob("*.part"))
    with pytest.raises(PrinterUnreachable):
        ZebraPrinter(FileTransport(tmp_path / "missing")).print_job(JOB)


@pytest.mark.parametrize(
    ("url", "kind", "where"),
    [
        ("tcp://10.0.0.5", RawTcpTransport, "tcp://10.0.0.5:9100"),
        ("tcp://printer-3:6101", RawTcpTransport, "tcp://printer-3:6101"),
        ("serial:///dev/ttyS0", SerialTransport, "serial:/dev/ttyS0"),
        ("serial:socket://10.0.0.9:4001?baudrate=19200", SerialTransport, None),
        ("cups://zebra_1", CupsRawTransport, "cups://zebra_1"),
        ("file:///tmp/labels", FileTransport, "file:///tmp/labels"),
    ],
)
def test_transport_from_url(url: str, kind: type, where: str | None) -> None:
    transport = transport_from_url(url)
    assert isinstance(transport, kind)
    if where:
        assert transport.url == where
    if isinstance(transport, SerialTransport) and "19200" in url:
        assert transport.settings.baudrate == 19200
        assert transport.port == "socket://10.0.0.9:4001"


@pytest.mark.parametrize("url", ["http://x", "tcp://", "serial:", "cups://"])
def test_bad_printer_urls(url: str) -> None:
    with pytest.raises(ConfigError):
        transport_from_url(url)
