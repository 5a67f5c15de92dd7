"""The order-flow commands of `wms`: allocate, plan and release waves, continuous release.

web/cli.py adds them to its group with :func:`register`. They take the same state object as
its other commands (``ctx.obj``); nothing from web.cli is imported at run time, so either
module may be imported first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import click

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from web.cli import _State
    from wms.config import Settings
    from wms.db import Database
    from wms.release import ReleaseOptions, ReleaseResult

# The same option as web.cli's ``database_option`` (defined here so that no import cycle forms).
database_option = click.option(
    "--database", metavar="URL", help="Database URL; overrides config.yaml and WMS_DATABASE_URL."
)
# `wms allocate` commits every this many orders: a failure loses little, SQLite syncs less.
ALLOCATE_CHUNK = 100


def register(main: click.Group) -> None:
    """Add the order-flow commands to the `wms` group."""
    for command in (allocate_command, waves_command, release_command):
        main.add_command(command)


@contextmanager
def _database(settings: Settings) -> Iterator[Database]:
    """The migrated database of the settings; exit 2 with a hint if its schema is not current."""
    from wms.db import Database, migrate

    db = Database(settings.database.url)
    try:
        if not migrate.is_current(db.engine):
            click.secho(
                "The database schema is not up to date: run `wms db upgrade` first.",
                fg="red",
                err=True,
            )
            raise SystemExit(2)
        yield db
    finally:
        db.dispose()


def _options(settings: Settings) -> ReleaseOptions:
    """Cart size and one-way aisles from config.yaml's picking section."""
    from wms.release import ReleaseOptions

    picking = settings.picking
    return ReleaseOptions(
        totes_per_cart=picking.totes_per_cart,
        tote_max_units=picking.tote_max_units,
        one_way_aisles=picking.one_way_aisles,
    )


def _refused(message: str) -> NoReturn:
    click.secho(message, fg="red", err=True)
    raise SystemExit(1)


def _print_release(result: ReleaseResult, wave: str | None = None) -> None:
    if not result.orders:
        click.echo("Nothing released.")
        return
    where = f" in wave {wave}" if wave else ""
    click.secho(
        f"Released {result.orders} order(s){where}: {len(result.batches)} batch(es), "
        f"{result.tasks} pick task(s), {result.replenishments} replenishment(s), "
        f"{result.route_length_m:.1f} m of walking.",
        fg="green",
    )
    if result.batches:
        click.echo(f"  batches: {', '.join(result.batches)}")


def _wave_of(session: Session, result: ReleaseResult) -> str | None:
    """The code of the wave a release made its batches in."""
    from sqlalchemy import select

    from wms.db.schema import PickBatch, Wave

    if not result.batches:
        return None
    return session.scalar(
        select(Wave.code)
        .join(PickBatch, PickBatch.wave_id == Wave.id)
        .where(PickBatch.code == result.batches[0])
    )


@click.command("allocate", short_help="Allocate the orders waiting for stock; counts by status.")
@database_option
@click.pass_obj
def allocate_command(state: _State, database: str | None) -> None:
    """Allocate every received, backordered and partly allocated order; print counts by status.

    The most urgent orders (priority, then cut-off) get the stock first. Orders already
    released are left alone: their short picks re-allocate by themselves.
    """
    from sqlalchemy import select

    from wms.allocation import allocate_order
    from wms.db.schema import Order
    from wms.model import OrderStatus

    waiting = (OrderStatus.RECEIVED, OrderStatus.BACKORDERED, OrderStatus.PARTLY_ALLOCATED)
    with _database(state.settings(database)) as db:
        with db.read() as session:
            ids = session.scalars(
                select(Order.id)
                .where(Order.status.in_(waiting))
                .order_by(Order.priority.desc(), Order.cut_off.is_(None), Order.cut_off, Order.id)
            ).all()
        outcome: Counter[str] = Counter()
        for start in range(0, len(ids), ALLOCATE_CHUNK):
            with db.write() as session:
                for order_id in ids[start : start + ALLOCATE_CHUNK]:
                    order = session.get_one(Order, order_id)
                    if order.status in waiting:  # another process may have moved it on
                        outcome[allocate_order(session, order).status.value] += 1
    if not outcome:
        click.echo("No order waits for allocation.")
        return
    click.secho(f"Allocation ran for {sum(outcome.values())} order(s); they are now:", fg="green")
    for status in ("allocated", "partly_allocated", "backordered"):
        click.echo(f"  {status:<17} {outcome.get(status, 0)}")


@click.group("waves", short_help="Plan waves, list them, release one.")
def waves_command() -> None:
    """Waves: plan allocated orders into waves, list them, release one to the floor."""


@waves_command.command("plan", short_help="Plan allocated orders into waves.")
@database_option
@click.pass_obj
def waves_plan(state: _State, database: str | None) -> None:
    """Group allocated orders that are in no wave by cut-off, carrier and priority.

    Held orders stay out. The waves are only planned: release each with `wms waves release`.
    """
    from sqlalchemy import func, select

    from wms.db.schema import Order
    from wms.release import plan_waves

    with _database(state.settings(database)) as db, db.write() as session:
        waves = plan_waves(session)
        session.flush()
        sizes = dict(
            session.execute(
                select(Order.wave_id, func.count())
                .where(Order.wave_id.in_([w.id for w in waves]))
                .group_by(Order.wave_id)
            ).all()
        )
        rows = [(w.code, w.cut_off, w.carrier, w.priority, int(sizes.get(w.id, 0))) for w in waves]
    if not rows:
        click.echo("No allocated order waits for a wave.")
        return
    click.secho(f"Planned {len(rows)} wave(s):", fg="green")
    for code, cut_off, carrier, priority, orders in rows:
        when = cut_off.strftime("%Y-%m-%d %H:%M") if cut_off else "no cut-off"
        click.echo(
            f"  {code}  {orders:>5} order(s)  cut-off {when}  "
            f"carrier {carrier or '-'}  priority {priority}"
        )


@waves_command.command("release", short_help="Release a planned wave to the floor.")
@click.argument("code")
@database_option
@click.pass_obj
def waves_release(state: _State, code: str, database: str | None) -> None:
    """Release the planned wave CODE: its orders become routed pick batches and tasks."""
    from wms.errors import WmsError
    from wms.release import release_wave

    settings = state.settings(database)
    with _database(settings) as db:
        try:
            with db.write() as session:
                result = release_wave(session, code, options=_options(settings))
        except WmsError as error:
            _refused(error.message)
    _print_release(result, code)


@waves_command.command("list")
@click.option(
    "--status",
    type=click.Choice(["planned", "released", "done", "cancelled"]),
    multiple=True,
    help="Only waves in this status (repeat for several).",
)
@click.option(
    "--limit",
    type=click.IntRange(1, 10_000),
    default=50,
    show_default=True,
    help="Most waves listed.",
)
@database_option
@click.pass_obj
def waves_list(state: _State, status: tuple[str, ...], limit: int, database: str | None) -> None:
    """List waves, newest first, with their orders and batches."""
    from sqlalchemy import func, select

    from wms.db.schema import Order, PickBatch, Wave
    from wms.model import WaveStatus

    with _database(state.settings(database)) as db, db.read() as session:
        query = select(Wave).order_by(Wave.created_at.desc(), Wave.id.desc()).limit(limit)
        if status:
            query = query.where(Wave.status.in_([WaveStatus(s) for s in status]))
        waves = session.scalars(query).all()
        ids = [w.id for w in waves]
        orders = dict(
            session.execute(
                select(Order.wave_id, func.count())
                .where(Order.wave_id.in_(ids))
                .group_by(Order.wave_id)
            ).all()
        )
        batches = dict(
            session.execute(
                select(PickBatch.wave_id, func.count())
                .where(PickBatch.wave_id.in_(ids))
                .group_by(PickBatch.wave_id)
            ).all()
        )
    if not waves:
        click.echo("No waves.")
        return
    click.echo(f"{'wave':<24} {'status':<9} {'orders':>6} {'batches':>7}  cut-off")
    for wave in waves:
        when = wave.cut_off.strftime("%Y-%m-%d %H:%M") if wave.cut_off else "-"
        click.echo(
            f"{wave.code:<24} {wave.status.value:<9} {int(orders.get(wave.id, 0)):>6} "
            f"{int(batches.get(wave.id, 0)):>7}  {when}"
        )


@click.command("release", short_help="One pass of continuous (waveless) release.")
@click.option(
    "--continuous",
    is_flag=True,
    help="Release the most urgent allocated orders while zones and pack stations have room.",
)
@click.option(
    "--max-orders",
    type=click.IntRange(1, 5000),
    default=500,
    show_default=True,
    help="Most orders released in this pass.",
)
@database_option
@click.pass_obj
def release_command(state: _State, continuous: bool, max_orders: int, database: str | None) -> None:
    """One pass of continuous (waveless) release; prints what was released.

    Zones stop taking work at picking.zone_wip_limit open tasks, pack stations at
    picking.pack_station_wip_limit waiting orders (config.yaml). Run it on a schedule
    (cron, a systemd timer). Waves are released with `wms waves release CODE`.
    """
    from wms.errors import WmsError
    from wms.release import release_continuous

    if not continuous:
        raise click.UsageError(
            "say --continuous for one pass of waveless release; "
            "waves are released with `wms waves release CODE`"
        )
    settings = state.settings(database)
    with _database(settings) as db:
        try:
            with db.write() as session:
                result = release_continuous(
                    session,
                    zone_wip_limit=settings.picking.zone_wip_limit,
                    pack_station_wip_limit=settings.picking.pack_station_wip_limit,
                    options=_options(settings),
                    max_orders=max_orders,
                )
                wave = _wave_of(session, result)
        except WmsError as error:
            _refused(error.message)
    _print_release(result, wave)
