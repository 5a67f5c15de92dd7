"""The print spooler against the simulated Zebra: paper out, head open, unreachable, no dupes."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import pytest

from devices.printer.simulator import SimulatedZebraPrinter
from labels.documents import ToteLabel
from labels.zpl import label_drawing, label_zpl
from web.spooler import PrinterSender
from wms import print_jobs
from wms.config import PrinterSettings
from wms.db import Database
from wms.db.schema import PrintJob
from wms.model import PrintJobState

WAIT_S = 30.0


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def simulator() -> Iterator[SimulatedZebraPrinter]:
    with SimulatedZebraPrinter() as sim:
        yield sim


def _sender(database: Database, url: str) -> PrinterSender:
    sender = PrinterSender(
        database, PrinterSettings(name="pack-1-zebra", url=url), status_every=0.2
    )
    sender.printer.status_timeout = 0.5
    return sender


def _enqueue(database: Database, *totes: str) -> list[int]:
    with database.write() as s:
        return [
            print_jobs.enqueue(
                s,
                print_jobs.NewPrintJob(
                    "pack-1-zebra", "tote_label", [label_drawing(ToteLabel(tote))]
                ),
            ).id
            for tote in totes
        ]


def _job(database: Database, job_id: int) -> PrintJob:
    with database.read() as s:
        return s.get_one(PrintJob, job_id)


def test_queued_jobs_reach_a_ready_printer_once_each_in_order(
    database: Database, simulator: SimulatedZebraPrinter
) -> None:
    sender = _sender(database, simulator.url)
    sender.start()
    try:
        ids = _enqueue(database, "T-1", "T-2", "T-3")
        sender.wake()
        jobs = simulator.wait_for_jobs(3, WAIT_S)
        _wait(lambda: all(_job(database, i).state is PrintJobState.PRINTED for i in ids), "3")
    finally:
        sender.stop()
    assert [job.data for job in jobs] == [
        label_zpl(ToteLabel(t)).encode() for t in ["T-1", "T-2", "T-3"]
    ]
    assert all(job.printer_ready for job in jobs)
    assert [_job(database, i).attempts for i in ids] == [1, 1, 1]
    assert sender.view().state == "ready"


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (SimulatedZebraPrinter.set_paper_out, "Out of labels"),
        (SimulatedZebraPrinter.set_head_open, "Print head open"),
        (SimulatedZebraPrinter.set_paused, "Paused"),
    ],
)
def test_a_faulty_printer_gets_nothing_until_it_is_fixed_then_the_job_once(
    database: Database,
    simulator: SimulatedZebraPrinter,
    fault: Callable[[SimulatedZebraPrinter], None],
    message: str,
) -> None:
    fault(simulator)
    sender = _sender(database, simulator.url)
    sender.start()
    try:
        [job_id] = _enqueue(database, "T-7")
        sender.wake()
        _wait(lambda: _job(database, job_id).attempts >= 3, "three tries")
        job = _job(database, job_id)
        assert job.state in (PrintJobState.QUEUED, PrintJobState.SENDING)
        assert message in job.last_error
        assert simulator.jobs == []
        assert sender.view().can_print is False
        simulator.ready()
        simulator.wait_for_jobs(1, WAIT_S)
        _wait(lambda: _job(database, job_id).state is PrintJobState.PRINTED, "printed")
        time.sleep(0.5)  # a duplicate would arrive within the sender's next rounds
    finally:
        sender.stop()
    assert len(simulator.jobs) == 1
    assert simulator.jobs[0].data == label_zpl(ToteLabel("T-7")).encode()


def test_a_printer_that_stays_silent_while_the_head_is_open_is_an_error(
    database: Database, simulator: SimulatedZebraPrinter
) -> None:
    simulator.no_reply_on_error = True
    simulator.set_head_open()
    sender = _sender(database, simulator.url)
    sender.start()
    try:
        [job_id] = _enqueue(database, "T-8")
        sender.wake()
        _wait(lambda: _job(database, job_id).attempts >= 2, "two tries")
        assert "No status reply" in _job(database, job_id).last_error
        assert simulator.jobs == []
        simulator.ready()
        _wait(lambda: _job(database, job_id).state is PrintJobState.PRINTED, "printed")
    finally:
        sender.stop()
    assert len(simulator.jobs) == 1


def test_an_unreachable_printer_keeps_the_job_until_it_comes_up(database: Database) -> None:
    port = _free_port()
    sender = _sender(database, f"tcp://127.0.0.1:{port}")
    sender.start()
    try:
        [job_id] = _enqueue(database, "T-9")
        sender.wake()
        _wait(lambda: _job(database, job_id).attempts >= 2, "two tries")
        assert "Cannot connect" in _job(database, job_id).last_error
        assert sender.view().state == "unreachable"
        with SimulatedZebraPrinter(port=port) as late:
            late.wait_for_jobs(1, WAIT_S)
            _wait(lambda: _job(database, job_id).state is PrintJobState.PRINTED, "printed")
            assert [job.data for job in late.jobs] == [label_zpl(ToteLabel("T-9")).encode()]
    finally:
        sender.stop()


def test_a_voided_job_is_never_sent_and_a_restart_sends_what_was_in_flight(
    database: Database, simulator: SimulatedZebraPrinter
) -> None:
    voided, in_flight = _enqueue(database, "T-10", "T-11")
    with database.write() as s:
        print_jobs.void(s, voided)
    with database.write() as s:
        claimed = print_jobs.claim_next(s, "pack-1-zebra")  # a server stopped mid-send
        assert claimed is not None and claimed.id == in_flight
    sender = _sender(database, simulator.url)
    sender.start()  # requeues the job left sending
    try:
        simulator.wait_for_jobs(1, WAIT_S)
        _wait(lambda: _job(database, in_flight).state is PrintJobState.PRINTED, "printed")
        time.sleep(0.3)
    finally:
        sender.stop()
    assert [job.data for job in simulator.jobs] == [label_zpl(ToteLabel("T-11")).encode()]
    assert _job(database, voided).state is PrintJobState.VOID


def test_paper_running_out_on_a_label_keeps_that_job_printed_and_holds_the_next(
    database: Database, simulator: SimulatedZebraPrinter
) -> None:
    simulator.on_job = lambda _job: simulator.set_paper_out()  # the roll ends on this label
    sender = _sender(database, simulator.url)
    sender.start()
    try:
        first, second = _enqueue(database, "T-20", "T-21")
        sender.wake()
        _wait(lambda: _job(database, first).state is PrintJobState.PRINTED, "first printed")
        assert "Out of labels" in _job(database, first).last_error
        _wait(lambda: _job(database, second).attempts >= 2, "second tried twice")
        assert _job(database, second).state in (PrintJobState.QUEUED, PrintJobState.SENDING)
        assert len(simulator.jobs) == 1
        simulator.on_job = None
        simulator.ready()  # a new roll
        _wait(lambda: _job(database, second).state is PrintJobState.PRINTED, "second printed")
    finally:
        sender.stop()
    assert [job.data for job in simulator.jobs] == [
        label_zpl(ToteLabel("T-20")).encode(),
        label_zpl(ToteLabel("T-21")).encode(),
    ]
