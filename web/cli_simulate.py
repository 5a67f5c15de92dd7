"""`wms simulate`: virtual pickers working a running server (web/simulate/).

web/cli.py adds the command with :func:`register`; `wms demo` starts it in the background.
"""

from __future__ import annotations

import json
import signal
import sys
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from web.cli import _State
    from wms.db import Database

SIM_BADGE = "SIM-{:04d}"
SIM_USER = "sim{:02d}"


def register(main: click.Group) -> None:
    """Add `simulate` to the `wms` group."""
    main.add_command(simulate_command)


def ensure_virtual_pickers(db: Database, count: int) -> list[str]:
    """Badge-only picker users sim01.. (created when missing); their badges."""
    from sqlalchemy import select

    from wms.access import NewUser, create_user
    from wms.db.schema import User
    from wms.model import Role

    badges = []
    with db.write() as session:
        for n in range(1, count + 1):
            badge = SIM_BADGE.format(n)
            if session.scalar(select(User.id).where(User.badge == badge)) is None:
                create_user(
                    session,
                    NewUser(
                        SIM_USER.format(n), f"Virtual picker {n}", Role.PICKER, None, badge, "en"
                    ),
                )
            badges.append(badge)
    return badges


def gtin_lookup(db: Database) -> Any:
    """sku, unit -> the barcode a picker scans, read once per SKU from the database."""
    from sqlalchemy import select

    from wms.db.schema import Item, ItemGtin

    cache: dict[str, list[tuple[int, str]]] = {}

    def gtin_of(sku: str, unit: str = "each") -> str | None:
        known = cache.get(sku)
        if known is None:
            with db.read() as session:
                known = sorted(
                    (int(q), str(g))
                    for q, g in session.execute(
                        select(ItemGtin.pack_quantity, ItemGtin.gtin)
                        .join(Item, Item.id == ItemGtin.item_id)
                        .where(Item.sku == sku)
                    )
                )
            cache[sku] = known
        if not known:
            return None
        if unit == "pallet":
            return known[-1][1]
        if unit == "case":
            return next((g for q, g in known if q > 1), known[0][1])
        return known[0][1]

    return gtin_of


@click.command("simulate")
@click.option(
    "--url", default=None, help="The running server (default: server.host/port in config.yaml)."
)
@click.option(
    "--pickers",
    type=click.IntRange(1, 2000),
    default=3,
    show_default=True,
    help="Virtual pickers (users sim01.. with badges SIM-0001.., created if missing).",
)
@click.option(
    "--badge",
    "badges",
    multiple=True,
    help="Work as these existing badges instead (repeat the option).",
)
@click.option(
    "--speed",
    type=click.FloatRange(0.1, 1000),
    default=1.0,
    show_default=True,
    help="Time factor: 1 walks and scans at a real picker's pace, 50 is a load test.",
)
@click.option(
    "--walk-seconds",
    type=click.FloatRange(0),
    default=12.0,
    show_default=True,
    help="Walk between two pick locations at speed 1.",
)
@click.option(
    "--scan-seconds",
    type=click.FloatRange(0),
    default=2.0,
    show_default=True,
    help="Time per scan at speed 1.",
)
@click.option(
    "--wrong-scan-rate",
    type=click.FloatRange(0, 1),
    default=0.03,
    show_default=True,
    help="Share of locations first scanned wrongly.",
)
@click.option(
    "--short-rate",
    type=click.FloatRange(0, 1),
    default=0.02,
    show_default=True,
    help="Share of picks reported short.",
)
@click.option(
    "--duration",
    type=click.FloatRange(0),
    default=None,
    help="Stop after this many seconds (default: until Ctrl+C).",
)
@click.option(
    "--supervisor",
    default="super:super-demo",
    show_default=True,
    help="USER:PASSWORD of a supervisor who completes replenishments, presses the lights, "
    "sorts carts at the put wall, packs and loads the trucks; '' for none.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option(
    "--pack-station",
    default=None,
    help="Where the virtual packer (the supervisor) packs picked orders (default: the first "
    "pack station in config.yaml; '' for no packer).",
)
@click.option(
    "--dock",
    default=None,
    help="Dock door where the virtual loader (the supervisor) loads packed parcels and lets "
    "the trucks go (default: the first dock location; '' for no loader). An order with a dock "
    "of its own is loaded there.",
)
@click.option(
    "--truck-parcels",
    type=click.IntRange(1),
    default=12,
    show_default=True,
    help="A truck leaves once it holds this many parcels...",
)
@click.option(
    "--truck-minutes",
    type=click.FloatRange(0),
    default=30.0,
    show_default=True,
    help="...or this many minutes (at speed 1) after the loader first saw it.",
)
@click.option(
    "--put-wall",
    default=None,
    help="The simulated put wall (light bus) where finished carts are sorted into orders "
    "(default: the first simulated put wall on the light panel; '' for none).",
)
@click.option(
    "--release-below",
    type=click.IntRange(0),
    default=None,
    help="The supervisor releases the next planned wave (earliest cut-off first; planning "
    "waves first when none is planned but allocated orders wait) while fewer pick carts than "
    "this wait for a picker (open or assigned). Default: twice the pickers; 0 never releases.",
)
@click.option(
    "--release-check-seconds",
    type=click.FloatRange(0),
    default=30.0,
    show_default=True,
    help="How often (at speed 1) the supervisor looks at the carts waiting.",
)
@click.option(
    "--order-rate",
    type=click.FloatRange(0),
    default=2.0,
    show_default=True,
    help="New webshop (B2C) orders a minute at speed 1, posted through the orders API for "
    "SKUs with free stock (--speed multiplies it); 0 switches the order feed off.",
)
@click.option(
    "--order-prefix",
    default="SIM-",
    show_default=True,
    help="Fed orders are numbered PREFIX<run>-<n> (<run> is unique to each run).",
)
@click.option(
    "--wait",
    type=click.FloatRange(0),
    default=60.0,
    show_default=True,
    help="Seconds to wait for the server to answer before giving up.",
)
@click.option("--database", metavar="URL", help="Database URL (to create the virtual pickers).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def simulate_command(
    state: _State,
    url: str | None,
    pickers: int,
    badges: tuple[str, ...],
    speed: float,
    walk_seconds: float,
    scan_seconds: float,
    wrong_scan_rate: float,
    short_rate: float,
    duration: float | None,
    supervisor: str,
    seed: int,
    pack_station: str | None,
    dock: str | None,
    truck_parcels: int,
    truck_minutes: float,
    put_wall: str | None,
    release_below: int | None,
    release_check_seconds: float,
    order_rate: float,
    order_prefix: str,
    wait: float,
    database: str | None,
    as_json: bool,
) -> None:
    """Virtual pickers as real Socket.IO handhelds on a running server: they take carts, walk,
    scan (sometimes wrongly), report the odd short pick; with --speed high, a load generator.
    The supervisor replenishes, presses pick-to-light lights, sorts carts into the put wall,
    packs, loads the parcels at the dock and lets the trucks go. It also keeps the floor busy:
    it releases the next wave when few carts wait, and new webshop orders keep arriving.
    """
    import logging

    from web.simulate import Simulation, SimulationOptions, Supervisor, wait_for_server
    from wms.db import Database

    events = logging.getLogger("web.simulate")  # trucks leaving, carts sorted: on stderr
    if not events.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        events.addHandler(handler)
        events.setLevel(logging.INFO)

    settings = state.settings(database)
    url = url or f"http://{settings.server.host}:{settings.server.port}"
    if not wait_for_server(url, timeout=wait):
        click.secho(f"No server answers at {url}: start it with `wms serve`.", fg="red", err=True)
        raise SystemExit(2)
    db = Database(settings.database.url)
    try:
        if not badges:
            badges = tuple(ensure_virtual_pickers(db, pickers))
        boss = None
        if supervisor:
            username, _, password = supervisor.partition(":")
            try:
                boss = Supervisor(url, username, password)
            except Exception as error:  # noqa: BLE001 - replenishment is optional
                click.secho(f"No replenishments: {error}", fg="yellow", err=True)
        options = SimulationOptions(
            url=url,
            badges=badges,
            speed=speed,
            walk_seconds=walk_seconds,
            scan_seconds=scan_seconds,
            wrong_scan_rate=wrong_scan_rate,
            short_rate=short_rate,
            seed=seed,
            pack_station=(
                pack_station
                if pack_station is not None
                else next((p.name for p in settings.pack_stations), "")
            ),
            dock=dock,
            truck_parcels=truck_parcels,
            truck_minutes=truck_minutes,
            put_wall=put_wall,
            release_below=release_below,
            release_check_seconds=release_check_seconds,
            order_rate=order_rate,
            order_prefix=order_prefix,
        )
        simulation = Simulation(options, gtin_lookup(db), boss)
        signal.signal(signal.SIGTERM, lambda *_: simulation.stop.set())
        click.echo(f"{len(badges)} virtual picker(s) working {url} at speed x{speed:g} ...")
        simulation.start()
        try:
            simulation.run_for(duration)
        except KeyboardInterrupt:
            simulation.halt()
        summary = simulation.summary()
    finally:
        db.dispose()
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(
            f"picks {summary['picks']}, scans {summary['scans']}, wrong scans "
            f"{summary['wrong_scans']}, shorts {summary['shorts']}, carts {summary['batches']}, "
            f"replenishments {summary['replenished']}, light presses "
            f"{summary['light_presses']}, packed {summary['packed']}, put wall "
            f"{summary['put_wall'] or '-'}: carts {summary['wall_carts']}, puts "
            f"{summary['wall_puts']} ({summary['wall_units']} units), slots cleared "
            f"{summary['wall_cleared']}; dock {summary['dock'] or '-'}: parcels loaded "
            f"{summary['parcels_loaded']}, trucks {summary['trucks']} ({summary['orders_shipped']} "
            f"orders shipped); waves released {summary['waves_released']} "
            f"({summary['orders_released']} orders, {summary['carts_released']} carts; "
            f"{summary['waves_planned']} planned), orders fed {summary['orders_fed']} "
            f"({summary['fed_backordered']} not wholly allocated, {summary['orders_refused']} "
            f"refused); errors {summary['errors'] or 0}"
        )
    sys.stdout.flush()


def start_in_background(
    config: str | None, database_url: str, url: str, pickers: int, log_path: Any
) -> Any:
    """Run `wms simulate` as a child process (for `wms demo`); stopped when we exit."""
    import atexit
    import subprocess

    command = [sys.executable, "-m", "web.cli"]
    if config:
        command += ["--config", config]
    command += ["simulate", "--url", url, "--database", database_url, "--pickers", str(pickers)]
    from pathlib import Path

    Path(log_path).parent.mkdir(parents=True, exist_ok=True)  # var/ of a fresh instance
    log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - kept open for the child
    child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

    def stop() -> None:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        log.close()

    atexit.register(stop)
    return child
