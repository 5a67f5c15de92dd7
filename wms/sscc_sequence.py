"""SSCC serials from a counter row in the database: never the same SSCC twice.

One row per extension digit and company prefix holds the last serial handed out. A serial is
taken by one conditional ``UPDATE ... SET last_serial = last_serial + n ... RETURNING``: on
PostgreSQL the row lock makes concurrent packers queue on it, on SQLite the write transaction
(``BEGIN IMMEDIATE``) does. The counter is in the same transaction as the parcel that uses the
SSCC: a close that rolls back never committed its serial, and nothing printed carries it, so
the next close may take the same serial without any SSCC existing twice. A row rather than a
PostgreSQL SEQUENCE because the same statement works on both databases, and because a
sequence's ``nextval`` is not rolled back, which would burn numbers on every refused close.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from labels.sscc import SsccScheme
from wms.db.schema import SsccCounter
from wms.errors import Conflict, InvalidInput

_TAKE = (
    update(SsccCounter)
    .where(
        SsccCounter.key == bindparam("p_key"),
        SsccCounter.last_serial + bindparam("p_count") <= bindparam("p_max"),
    )
    .values(last_serial=SsccCounter.last_serial + bindparam("p_count"))
    .returning(SsccCounter.last_serial)
)


def counter_key(scheme: SsccScheme) -> str:
    """The counter row of a scheme: extension digit then company prefix."""
    return f"{scheme.extension_digit}{scheme.company_prefix}"


def _create_counter(session: Session, key: str) -> None:
    """Insert the counter at 0 unless a concurrent transaction already did."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(SsccCounter).values(key=key, last_serial=0).on_conflict_do_nothing())


def allocate_serials(session: Session, scheme: SsccScheme, count: int = 1) -> list[int]:
    """Take ``count`` consecutive unused serial references for ``scheme``."""
    if count < 1:
        raise InvalidInput(f"cannot allocate {count} SSCCs", count=count)
    key = counter_key(scheme)
    params = {"p_key": key, "p_count": count, "p_max": scheme.max_serial}
    last = session.execute(_TAKE, params).scalar_one_or_none()
    if last is None:
        # No row yet, or the range is used up. The insert waits for a concurrent transaction
        # that is creating the same row (PostgreSQL), so the second try sees it either way.
        _create_counter(session, key)
        last = session.execute(_TAKE, params).scalar_one_or_none()
    if last is None:
        raise Conflict(
            f"the SSCC serials of prefix {key} are used up (the last is {scheme.max_serial})",
            prefix=key,
        )
    return list(range(int(last) - count + 1, int(last) + 1))


def allocate_ssccs(session: Session, scheme: SsccScheme, count: int = 1) -> list[str]:
    """Take ``count`` new SSCCs (check digit included) for ``scheme``."""
    return [scheme.sscc(serial) for serial in allocate_serials(session, scheme, count)]


def last_serial(session: Session, scheme: SsccScheme) -> int:
    """The last serial handed out for ``scheme`` (0 before the first)."""
    value = session.scalar(
        select(SsccCounter.last_serial).where(SsccCounter.key == counter_key(scheme))
    )
    return int(value or 0)
