"""The `wms` command: database, demo, server, import and configuration check."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from web.cli_flow import register as register_flow_commands
from web.cli_simulate import register as register_simulate_command
from wms.config import ConfigError, Settings, load_settings

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _State:
    def __init__(self, config: str | None) -> None:
        self.config = config

    def settings(self, database: str | None = None) -> Settings:
        try:
            settings = load_settings(self.config)
        except ConfigError as error:
            click.secho(str(error), fg="red", err=True)
            raise SystemExit(2) from None
        if database:
            from wms.config import DatabaseSettings

            try:
                settings = settings.model_copy(update={"database": DatabaseSettings(url=database)})
            except ValueError as error:
                click.secho(f"--database {database!r}: {error}", fg="red", err=True)
                raise SystemExit(2) from None
        return settings

    def instance_dir(self) -> Path:
        import os

        path = Path(self.config or os.environ.get("WMS_CONFIG") or "config.yaml")
        return path.resolve().parent / "var"


pass_state = click.make_pass_decorator(_State)
database_option = click.option(
    "--database", metavar="URL", help="Database URL; overrides config.yaml and WMS_DATABASE_URL."
)


@click.group(context_settings=CONTEXT)
@click.option(
    "--config",
    metavar="FILE",
    envvar="WMS_CONFIG",
    help="config.yaml to use (default: ./config.yaml, or $WMS_CONFIG).",
)
@click.pass_context
def main(ctx: click.Context, config: str | None) -> None:
    """Warehouse floor execution: picking, packing, devices and a SQL inventory ledger."""
    ctx.obj = _State(config)


@main.command("check-config")
@pass_state
def check_config(state: _State) -> None:
    """Validate config.yaml and say what it configures; exit 2 if it is not valid."""
    settings = state.settings()
    from web.floor_devices import DeviceSetupError, check_devices

    try:
        check_devices(settings)  # builds every driver (opens no port): light maps, profiles
    except DeviceSetupError as error:
        click.secho(str(error), fg="red", err=True)
        raise SystemExit(2) from None
    click.secho(f"{state.config or 'config.yaml'} is valid.", fg="green")
    click.echo(f"  database: {_redact(settings.database.url)}")
    click.echo(f"  server:   http://{settings.server.host}:{settings.server.port}/")
    click.echo(f"  language: {settings.language}")
    click.echo(f"  zones:    {', '.join(z.code for z in settings.zones) or 'none'}")
    click.echo(f"  devices:  {len(settings.devices)}; printers: {len(settings.printers)}")
    click.echo(f"  GS1 company prefix: {settings.labels.gs1_company_prefix}")


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@database_option
@pass_state
def db_upgrade(state: _State, database: str | None) -> None:
    """Create or upgrade the schema (Alembic), then add config.yaml's zones and devices."""
    from wms.db import Database, migrate
    from wms.site import sync_from_settings

    settings = state.settings(database)
    migrate.upgrade(settings.database.url)
    db = Database(settings.database.url)
    try:
        with db.write() as session:
            sync_from_settings(session, settings)  # zones first, so locations can be imported
    finally:
        db.dispose()
    click.secho(f"Database is up to date: {_redact(settings.database.url)}", fg="green")


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _serve(
    settings: Settings,
    instance_dir: Path,
    host: str | None,
    port: int | None,
    simulators: Any = None,
) -> None:
    from web import server
    from wms.db import Database, migrate

    # Checked before the process is patched for gevent: a refusal leaves it as it was.
    checked = Database(settings.database.url)
    try:
        current = migrate.is_current(checked.engine)
    finally:
        checked.dispose()
    if not current:
        click.secho(
            "The database schema is not up to date: run `wms db upgrade` first.", fg="red", err=True
        )
        raise SystemExit(2)
    # The demo's simulated light buses run in this process on asyncio loops of their own,
    # each needing an OS thread to itself: under gevent every thread is a greenlet of one.
    if settings.server.worker == "gevent" and simulators is None:
        server.patch_for_gevent()  # before the database and the app make their locks
    elif settings.server.worker == "gevent":
        click.echo("  worker: gthread (the simulated devices run in this process)")
    from web import create_app
    from web.floor_devices import DeviceSetupError, get_floor_devices, start_with_server

    # The server checkpoints the SQLite WAL on a thread of its own, never inside a commit.
    database = Database(settings.database.url, background_checkpoints=True)
    from wms.site import sync_from_settings

    with database.write() as session:
        sync_from_settings(session, settings)
    try:
        app = create_app(settings, instance_dir=instance_dir, database=database)
    except DeviceSetupError as error:
        click.secho(str(error), fg="red", err=True)
        raise SystemExit(2) from None
    devices = get_floor_devices(app)
    if devices is not None and simulators is not None:
        devices.use_simulators(simulators)
    start_with_server(app)  # in gunicorn's worker, after the fork
    os.register_at_fork(after_in_child=lambda: server.start_wal_checkpoints(database))
    host = host or settings.server.host
    port = port or settings.server.port
    click.secho(f"Serving on http://{host}:{port}/  (Ctrl+C to stop)", fg="green")
    server.run(app, host, port, settings.server.threads)


@main.command()
@click.option("--host", help="Address to bind (default: server.host in config.yaml).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: server.port).")
@database_option
@pass_state
def serve(state: _State, host: str | None, port: int | None, database: str | None) -> None:
    """Run the server on an existing, migrated database."""
    _serve(state.settings(database), state.instance_dir(), host, port)


@main.command()
@click.option("--host", help="Address to bind (default: server.host in config.yaml).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: server.port).")
@click.option(
    "--database",
    metavar="URL",
    help="Database for the demo (default: var/demo.sqlite3 next to config.yaml). "
    "It is wiped and filled with demo data.",
)
@click.option("--seed", type=int, default=42, show_default=True, help="Random seed of the data.")
@click.option("--locations", type=int, default=1000, show_default=True, help="Pick locations.")
@click.option("--items", type=int, default=500, show_default=True, help="Items (SKUs).")
@click.option("--b2c-orders", type=int, default=200, show_default=True, help="B2C orders.")
@click.option("--b2b-orders", type=int, default=10, show_default=True, help="B2B orders.")
@click.option("--no-serve", is_flag=True, help="Build the demo database and stop.")
@click.option(
    "--no-simulate", is_flag=True, help="Serve without the virtual pickers of `wms simulate`."
)
@click.option(
    "--simulate-pickers",
    type=click.IntRange(1, 200),
    default=3,
    show_default=True,
    help="Virtual pickers working the demo floor.",
)
@pass_state
def demo(
    state: _State,
    host: str | None,
    port: int | None,
    database: str | None,
    seed: int,
    locations: int,
    items: int,
    b2c_orders: int,
    b2b_orders: int,
    no_serve: bool,
    no_simulate: bool,
    simulate_pickers: int,
) -> None:
    """Build a fresh demo warehouse (wiping the demo database), then serve it."""
    from wms import demo as demo_data
    from wms.db import Database, migrate

    instance_dir = state.instance_dir()
    url = database or f"sqlite:///{instance_dir / 'demo.sqlite3'}"
    settings = state.settings(url)
    _wipe(settings.database.url)
    migrate.upgrade(settings.database.url)
    click.echo(f"Building the demo warehouse in {_redact(settings.database.url)} ...")
    db = Database(settings.database.url)
    with click.progressbar(length=100, label="demo data", show_percent=True) as bar:
        last = [0]

        def progress(phase: str, done: int, total: int) -> None:
            bar.label = f"{phase:<14}"
            shown = int(100 * done / max(total, 1))
            if shown > last[0] or shown < last[0]:
                bar.update(shown - last[0])
                last[0] = shown

        summary = demo_data.generate_demo(
            db,
            seed=seed,
            pick_locations=locations,
            items=items,
            b2c_orders=b2c_orders,
            b2b_orders=b2b_orders,
            gs1_company_prefix=settings.labels.gs1_company_prefix,
            progress=progress,
        )
    light_zone = demo_data.make_light_zone(db)
    floor = _start_the_floor(db, settings)
    db.dispose()
    _print_demo(summary, settings, host, port)
    click.echo(f"  {floor}\n")
    if not no_serve:
        from web.floor_devices import demo_floor

        settings, simulators, lines = demo_floor(settings, light_zone)
        for line in lines:
            click.echo(f"  {line}")
        if not no_simulate:
            from web.cli_simulate import start_in_background

            bind = host or settings.server.host
            local = "127.0.0.1" if bind in ("0.0.0.0", "::", "") else bind
            log = instance_dir / "simulate.log"
            start_in_background(
                state.config,
                settings.database.url,
                f"http://{local}:{port or settings.server.port}",
                simulate_pickers,
                log,
            )
            click.echo(f"  {simulate_pickers} virtual pickers at work (wms simulate; log: {log})")
        _serve(settings, instance_dir, host, port, simulators)


def _start_the_floor(db: Any, settings: Settings) -> str:
    """Allocate the demo orders, plan waves, and release the most urgent one to the floor."""
    from sqlalchemy import select

    from wms.allocation import allocate_orders
    from wms.db.schema import Order
    from wms.model import OrderStatus
    from wms.release import ReleaseOptions, plan_waves, release_wave

    picking = settings.picking
    options = ReleaseOptions(picking.totes_per_cart, picking.tote_max_units, picking.one_way_aisles)
    with db.write() as session:
        orders = list(
            session.scalars(
                select(Order).where(Order.status == OrderStatus.RECEIVED).order_by(Order.id)
            )
        )
        allocations = allocate_orders(session, orders)
        waves = plan_waves(session)
        # Release every wave of the earliest cut-off, so the floor has work at once.
        first = [w for w in waves if w.cut_off == waves[0].cut_off] if waves else []
        results = [release_wave(session, w.code, options=options) for w in first]
    counts: dict[str, int] = {}
    for allocation in allocations:
        counts[allocation.status.value] = counts.get(allocation.status.value, 0) + 1
    text = "Orders allocated: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    text += f"; {len(waves)} waves planned"
    if results:
        text += (
            f"; {len(results)} wave(s) of the first cut-off released: "
            f"{sum(r.orders for r in results)} orders in "
            f"{sum(len(r.batches) for r in results)} pick batches, "
            f"{sum(r.tasks for r in results)} pick tasks"
        )
    return text


def _print_demo(summary: Any, settings: Settings, host: str | None, port: int | None) -> None:
    from wms.demo import DEMO_LOGINS

    base = f"http://{host or settings.server.host}:{port or settings.server.port}"
    click.secho("\nDemo warehouse ready.", fg="green", bold=True)
    click.echo(f"  {summary.describe()}")
    click.echo(f"\n  Overview (office, supervisor):  {base}/login")
    click.echo(f"  Handheld (badge sign-in):       {base}/badge")
    click.echo(f"  REST API and OpenAPI:           {base}/api/v1/openapi.json")
    click.echo("\n  Demo logins (username / password / badge):")
    for login in DEMO_LOGINS:
        click.echo(
            f"    {login.role:<12} {login.username:<10} {login.password:<16} {login.badge or ''}"
        )
    if getattr(summary, "api_token", None):
        click.echo(f"\n  API token for 'erp': {summary.api_token}")
        click.echo(f'    curl -H "Authorization: Bearer {summary.api_token}" {base}/api/v1/orders')
    click.echo("")


def _wipe(url: str) -> None:
    """Start the demo from nothing: delete the SQLite file, or drop every table on PostgreSQL."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    from sqlalchemy import text

    from wms.db import Database

    db = Database(url)
    with db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    db.dispose()


@main.command("import")
@click.argument("kind", type=click.Choice(["customers", "items", "locations", "stock", "orders"]))
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@database_option
@pass_state
def import_(state: _State, kind: str, csv_file: Path, database: str | None) -> None:
    """Import a CSV file of customers, items, locations, stock or orders (all rows or none)."""
    from wms.db import Database, migrate
    from wms.errors import WmsError
    from wms.importer import import_csv
    from wms.site import sync_from_settings

    settings = state.settings(database)
    db = Database(settings.database.url)
    if not migrate.is_current(db.engine):
        click.secho("The database schema is not up to date: run `wms db upgrade` first.", fg="red")
        raise SystemExit(2)
    with db.write() as session:
        sync_from_settings(session, settings)
    rows = max(0, sum(1 for _ in csv_file.open(encoding="utf-8-sig")) - 1)
    with click.progressbar(length=rows, label=f"importing {kind}") as bar:
        last = [0]

        def progress(done: int) -> None:
            bar.update(done - last[0])
            last[0] = done

        try:
            report = import_csv(db, kind, csv_file, progress=progress)
        except WmsError as error:
            click.secho(f"\n{csv_file}: nothing imported: {error.message}", fg="red", err=True)
            raise SystemExit(1) from None
        finally:
            db.dispose()
    if report.errors:
        shown = len(report.errors)
        click.secho(
            f"{csv_file}: nothing imported; {report.error_count} row problem(s)"
            + (f", first {shown} shown" if shown < report.error_count else "")
            + ". Fix them and run again:",
            fg="red",
        )
        for error in report.errors:
            click.echo(f"  {error}")
        raise SystemExit(1)
    click.secho(f"{csv_file}: {report.created} {kind} imported.", fg="green")
    if kind == "orders":
        _allocate_received(settings)


def _allocate_received(settings: Settings) -> None:
    """Confirm imported orders at once: allocate them and say what could not be."""
    from sqlalchemy import select

    from wms.allocation import allocate_orders
    from wms.db import Database
    from wms.db.schema import Order
    from wms.model import OrderStatus

    db = Database(settings.database.url)
    try:
        with db.write() as session:
            orders = list(
                session.scalars(
                    select(Order)
                    .where(Order.status == OrderStatus.RECEIVED)
                    .order_by(Order.priority.desc(), Order.cut_off, Order.id)
                )
            )
            allocations = allocate_orders(session, orders)
    finally:
        db.dispose()
    counts: dict[str, int] = {}
    for allocation in allocations:
        counts[allocation.status.value] = counts.get(allocation.status.value, 0) + 1
        for line in allocation.lines:
            if line.status != "allocated":
                click.echo(
                    f"  {allocation.number} line {line.line_no} {line.sku}: "
                    f"{line.allocated}/{line.quantity} ({line.reason})"
                )
    click.echo("Allocation: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))


@main.group()
def user() -> None:
    """People and integrations: add users, issue API tokens."""


@user.command("add")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice(["picker", "packer", "supervisor", "admin", "integration"]),
    required=True,
    help="What the user may do.",
)
@click.option("--name", "display_name", help="Name shown on screens (default: the username).")
@click.option("--badge", help="Badge barcode for handheld sign-in.")
@click.option("--language", type=click.Choice(["en", "fr", "nl"]), default="en", show_default=True)
@click.option(
    "--password/--no-password",
    default=True,
    help="Ask for a password (default), or create a badge-only user.",
)
@database_option
@pass_state
def user_add(
    state: _State,
    username: str,
    role: str,
    display_name: str | None,
    badge: str | None,
    language: str,
    password: bool,
    database: str | None,
) -> None:
    """Add a user (the first admin of a new site, for example)."""
    from wms.access import NewUser, create_user
    from wms.db import Database
    from wms.errors import WmsError
    from wms.model import Role

    secret = (
        click.prompt("Password", hide_input=True, confirmation_prompt=True) if password else None
    )
    db = Database(state.settings(database).database.url)
    try:
        with db.write() as session:
            create_user(
                session,
                NewUser(username, display_name or username, Role(role), secret, badge, language),
            )
    except WmsError as error:
        click.secho(error.message, fg="red", err=True)
        raise SystemExit(1) from None
    finally:
        db.dispose()
    click.secho(f"User {username} ({role}) added.", fg="green")


@user.command("token")
@click.argument("username")
@click.option("--name", default="api", show_default=True, help="What the token is for.")
@database_option
@pass_state
def user_token(state: _State, username: str, name: str, database: str | None) -> None:
    """Issue an API token for a user; it is shown once, store it in the integration."""
    from sqlalchemy import select

    from wms.access import create_api_token
    from wms.db import Database
    from wms.db.schema import User

    db = Database(state.settings(database).database.url)
    try:
        with db.write() as session:
            found = session.scalar(select(User).where(User.username == username))
            if found is None:
                click.secho(
                    f"No user {username!r}; add it with `wms user add`.", fg="red", err=True
                )
                raise SystemExit(1)
            token = create_api_token(session, found, name)
    finally:
        db.dispose()
    click.echo(token)


register_flow_commands(main)
register_simulate_command(main)


def run() -> None:
    """Entry point of the console script."""
    main(prog_name="wms")


if __name__ == "__main__":
    sys.exit(run())
