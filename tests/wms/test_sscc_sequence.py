"""SSCC serials from the database counter: consecutive, never repeated, even under threads."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.exc import OperationalError

from labels.gs1 import is_valid_sscc
from labels.sscc import SsccScheme
from wms.db import Database
from wms.errors import Conflict, InvalidInput
from wms.sscc_sequence import allocate_serials, allocate_ssccs, last_serial

SCHEME = SsccScheme(company_prefix="5412345", extension_digit=0)


def test_serials_are_consecutive_and_ssccs_valid(database: Database) -> None:
    with database.write() as s:
        assert allocate_serials(s, SCHEME) == [1]
        assert allocate_serials(s, SCHEME, 3) == [2, 3, 4]
    with database.write() as s:
        ssccs = allocate_ssccs(s, SCHEME, 2)
    assert ssccs == [SCHEME.sscc(5), SCHEME.sscc(6)]
    assert all(is_valid_sscc(code) and code.startswith("05412345") for code in ssccs)
    with database.read() as s:
        assert last_serial(s, SCHEME) == 6


def test_each_prefix_and_extension_digit_counts_on_its_own(database: Database) -> None:
    other = SsccScheme(company_prefix="5412345", extension_digit=3)
    with database.write() as s:
        allocate_serials(s, SCHEME, 5)
        assert allocate_serials(s, other) == [1]
    with database.read() as s:
        assert (last_serial(s, SCHEME), last_serial(s, other)) == (5, 1)


def test_a_rolled_back_allocation_is_not_counted(database: Database) -> None:
    with database.write() as s:
        allocate_serials(s, SCHEME)
    with pytest.raises(RuntimeError), database.write() as s:
        allocate_serials(s, SCHEME)
        raise RuntimeError("the close failed")
    with database.write() as s:
        assert allocate_serials(s, SCHEME) == [2]


def test_the_counter_survives_a_restart(database: Database) -> None:
    with database.write() as s:
        allocate_serials(s, SCHEME, 10)
    again = Database(database.url)
    try:
        with again.write() as s:
            assert allocate_serials(s, SCHEME) == [11]
    finally:
        again.dispose()


def test_a_used_up_range_is_refused_not_wrapped(database: Database) -> None:
    tiny = SsccScheme(company_prefix="541234512345", extension_digit=0)  # 4 serial digits
    with database.write() as s:
        allocate_serials(s, tiny, 9998)
        assert allocate_serials(s, tiny) == [9999]
    with pytest.raises(Conflict, match="used up"), database.write() as s:
        allocate_serials(s, tiny)
    with pytest.raises(InvalidInput), database.write() as s:
        allocate_serials(s, SCHEME, 0)


def test_concurrent_packers_never_get_the_same_sscc(database: Database) -> None:
    threads, each = 8, 25
    taken: list[str] = []
    failures: list[BaseException] = []
    guard = threading.Lock()
    start = threading.Barrier(threads)

    def packer() -> None:
        start.wait()
        for _ in range(each):
            try:
                with database.write() as s:
                    codes = allocate_ssccs(s, SCHEME)
            except OperationalError as error:  # pragma: no cover - reported below
                failures.append(error)
                continue
            with guard:
                taken.extend(codes)

    workers = [threading.Thread(target=packer) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert failures == []
    assert len(taken) == threads * each
    assert len(set(taken)) == len(taken)
    assert sorted(SCHEME.serial_of(code) for code in taken) == list(range(1, threads * each + 1))


def test_a_fresh_counter_created_by_two_threads_at_once_starts_once(database: Database) -> None:
    # Both transactions may find no row and insert it: ON CONFLICT DO NOTHING keeps one.
    taken: list[int] = []
    start = threading.Barrier(2)

    def packer() -> None:
        start.wait()
        with database.write() as s:
            taken.extend(allocate_serials(s, SCHEME, 2))

    workers = [threading.Thread(target=packer) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert sorted(taken) == [1, 2, 3, 4]
