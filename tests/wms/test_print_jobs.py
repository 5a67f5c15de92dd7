"""The stored print queue: jobs are kept before sending, claimed once, voided, reprinted."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from labels.documents import LogisticLabel, ToteLabel
from labels.pdf import drawings_pdf
from labels.sscc import SsccScheme
from labels.zpl import label_drawing, label_zpl
from wms import print_jobs
from wms.db import Database
from wms.db.schema import PrintJob
from wms.errors import Conflict, NotFound
from wms.model import PrintJobState

SSCC = SsccScheme("5412345").sscc(42)


def _new(printer: str = "pack-1-zebra", *labels: object) -> print_jobs.NewPrintJob:
    documents = labels or (ToteLabel("T-0001"),)
    return print_jobs.NewPrintJob(
        printer,
        "tote_label",
        [label_drawing(d) for d in documents],  # type: ignore[arg-type]
    )


def test_a_job_is_stored_with_its_zpl_and_queued(database: Database) -> None:
    tote = ToteLabel("T-0001")
    with database.write() as s:
        job_id = print_jobs.enqueue(s, _new("p1", tote)).id
    with database.read() as s:
        job = s.get_one(PrintJob, job_id)
        assert job.state is PrintJobState.QUEUED
        assert job.zpl == label_zpl(tote).encode()
        assert (job.attempts, job.last_error, job.printer) == (0, "", "p1")


def test_the_preview_drawing_renders_to_exactly_the_stored_zpl(database: Database) -> None:
    case = LogisticLabel(
        sscc=SSCC, content_gtin="05412345000013", count=12, lot="L42", order_number="A^XZ~B"
    )
    with database.write() as s:
        job_id = print_jobs.enqueue(s, _new("p1", case, ToteLabel("T-9"))).id
    with database.read() as s:
        job = s.get_one(PrintJob, job_id)
        drawings = print_jobs.job_drawings(job)
    assert drawings == [label_drawing(case), label_drawing(ToteLabel("T-9"))]
    assert drawings_pdf(drawings).startswith(b"%PDF")


def test_a_preview_that_does_not_match_the_bytes_is_refused(database: Database) -> None:
    with database.write() as s:
        job = print_jobs.enqueue(s, _new())
        job.zpl = job.zpl.replace(b"T-0001", b"T-0002")
    with database.read() as s, pytest.raises(Conflict, match="no preview"):
        print_jobs.job_drawings(s.get_one(PrintJob, job.id))


def test_claim_takes_the_oldest_due_job_once_and_counts_the_attempt(database: Database) -> None:
    with database.write() as s:
        first = print_jobs.enqueue(s, _new()).id
        second = print_jobs.enqueue(s, _new()).id
        print_jobs.enqueue(s, _new("other"))
    with database.write() as s:
        job = print_jobs.claim_next(s, "pack-1-zebra")
        assert job is not None and job.id == first
        assert job.attempts == 1
        assert s.get_one(PrintJob, first).state is PrintJobState.SENDING
    with database.write() as s:
        job = print_jobs.claim_next(s, "pack-1-zebra")
        assert job is not None and job.id == second
    with database.write() as s:
        assert print_jobs.claim_next(s, "pack-1-zebra") is None


def test_retry_backs_off_and_printed_is_final(database: Database) -> None:
    now = dt.datetime.now(dt.UTC)
    with database.write() as s:
        job_id = print_jobs.enqueue(s, _new()).id
    with database.write() as s:
        assert print_jobs.claim_next(s, "pack-1-zebra", now=now) is not None
        due = print_jobs.mark_retry(s, job_id, "Out of labels", attempts=1, now=now)
    assert due == now + dt.timedelta(seconds=print_jobs.FIRST_BACKOFF_S)
    with database.write() as s:
        assert print_jobs.claim_next(s, "pack-1-zebra", now=now) is None  # not due yet
        job = print_jobs.claim_next(s, "pack-1-zebra", now=due)
        assert job is not None and job.attempts == 2
        print_jobs.mark_printed(s, job_id)
    with database.read() as s:
        job = s.get_one(PrintJob, job_id)
        assert (job.state, job.last_error) == (PrintJobState.PRINTED, "")
        assert job.sent_at is not None
    with pytest.raises(Conflict), database.write() as s:
        print_jobs.mark_printed(s, job_id)
    assert [print_jobs.backoff_seconds(n) for n in (1, 2, 3, 6, 50)] == [0.25, 0.5, 1.0, 5.0, 5.0]


def test_void_only_before_printing_and_reprint_copies_the_bytes(database: Database) -> None:
    with database.write() as s:
        queued = print_jobs.enqueue(s, _new()).id
        printed = print_jobs.enqueue(s, _new("p2")).id
    with database.write() as s:
        assert print_jobs.void(s, queued).state is PrintJobState.VOID
        job = print_jobs.claim_next(s, "p2")
        assert job is not None
        print_jobs.mark_printed(s, printed)
    with pytest.raises(Conflict, match="printed"), database.write() as s:
        print_jobs.void(s, printed)
    with pytest.raises(NotFound), database.write() as s:
        print_jobs.void(s, 999_999)
    with database.write() as s:
        again = print_jobs.reprint(s, printed, printer="p3")
        original = s.get_one(PrintJob, printed)
        assert (again.zpl, again.data) == (original.zpl, original.data)
        assert (again.state, again.reprint_of, again.printer) == (
            PrintJobState.QUEUED,
            printed,
            "p3",
        )


def test_jobs_left_sending_by_a_stopped_server_are_queued_again(database: Database) -> None:
    with database.write() as s:
        job_id = print_jobs.enqueue(s, _new()).id
        print_jobs.claim_next(s, "pack-1-zebra")
    with database.write() as s:
        assert print_jobs.requeue_interrupted(s, "pack-1-zebra") == 1
    with database.read() as s:
        job = s.get_one(PrintJob, job_id)
        assert job.state is PrintJobState.QUEUED
        assert "twice" in job.last_error


def test_two_senders_never_claim_the_same_job(database: Database) -> None:
    with database.write() as s:
        for _ in range(40):
            print_jobs.enqueue(s, _new())
    claimed: list[int] = []
    guard = threading.Lock()
    start = threading.Barrier(4)

    def sender() -> None:
        start.wait()
        while True:
            with database.write() as s:
                job = print_jobs.claim_next(s, "pack-1-zebra")
                if job is None:
                    return
                with guard:
                    claimed.append(job.id)

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(claimed) == 40 and len(set(claimed)) == 40
