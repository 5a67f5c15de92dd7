"""config.yaml: its schema, its validation, and the environment variables that override it."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from labels.errors import TemplateError
from labels.templates import TemplateRegistry, template_from_dict
from wms.model import LANGUAGES, ZoneKind

DEFAULT_CONFIG_FILE = "config.yaml"
SERIAL_URL_SCHEMES = ("socket", "rfc2217", "loop", "spy", "alt", "hwgrep")
PRINTER_URL_SCHEMES = ("tcp", "cups", "serial", "file")


class ConfigError(Exception):
    """config.yaml cannot be used; each problem names the key, the value and what is expected."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        listing = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source} is not valid:\n{listing}")


class _Section(BaseModel):
    # A misspelt key must stop the start, not be silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    """Where the inventory lives."""

    url: str = "sqlite:///var/wms.sqlite3"

    @field_validator("url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", value):
            raise ValueError(
                "expected a SQLite URL (sqlite:///path/to/file.sqlite3) "
                "or a PostgreSQL URL (postgresql+psycopg://user@host:5432/dbname)"
            )
        return value


class ServerSettings(_Section):
    """Bind address and web settings."""

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 5000
    # gevent: one greenlet per connection (handhelds, dashboards); gthread: one OS thread each.
    worker: Literal["gevent", "gthread"] = "gevent"
    threads: Annotated[int, Field(ge=4, le=2000)] = 100
    secret_key: str | None = None
    public_url: str | None = None


class ZoneSettings(_Section):
    """A zone of the floor."""

    code: Annotated[str, Field(pattern=r"^[A-Z0-9][A-Z0-9-]{0,15}$")]
    name: str
    kind: ZoneKind


def _check_serial_url(value: str) -> str:
    if value.startswith("/dev/") or re.match(r"^COM\d+$", value):
        return value
    scheme = urlsplit(value).scheme
    if scheme not in SERIAL_URL_SCHEMES:
        raise ValueError(
            "expected a serial port (/dev/ttyUSB0, COM3) or a pyserial URL "
            "(socket://host:port, rfc2217://host:port, loop://)"
        )
    return value


class DeviceSettings(_Section):
    """A pick-to-light bus, fixed scanner or scale on a serial line."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
    kind: Literal["ptl_bus", "scanner", "scale"]
    driver: str
    url: str
    baudrate: Annotated[int, Field(ge=300, le=921600)] = 19200
    zone: str | None = None
    station: str | None = None
    addresses: list[Annotated[int, Field(ge=1, le=247)]] = []
    # Pick-to-light: location code -> light address "UNIT" or "UNIT/SLOT" (docs/devices.md).
    lights: dict[str, str | int] = {}
    # Pick-to-light zone: the key in `lights` of the zone's "order complete" light.
    order_complete: str | None = None
    # Driver options passed through as they are (timeout, offline_after, profile dict, ...).
    options: dict[str, Any] = {}

    @field_validator("url")
    @classmethod
    def _serial_url(cls, value: str) -> str:
        return _check_serial_url(value)


class PrinterSettings(_Section):
    """A label printer and the station it serves."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
    url: str
    station: str | None = None
    dpmm: Literal[6, 8, 12, 24] = 8
    driver: Literal["zpl", "pdf"] = "zpl"

    @field_validator("url")
    @classmethod
    def _printer_url(cls, value: str) -> str:
        if value.startswith("/dev/"):
            return value
        scheme = urlsplit(value).scheme
        if scheme not in PRINTER_URL_SCHEMES:
            raise ValueError(
                "expected tcp://host:9100 (raw ZPL), cups://queue-name, serial:///dev/ttyS0 "
                "or file:///path (write jobs to a folder)"
            )
        return value


class LabelSettings(_Section):
    """GS1 numbering for SSCCs and GTINs."""

    gs1_company_prefix: Annotated[str, Field(pattern=r"^\d{6,12}$")] = "5412345"
    sscc_extension_digit: Annotated[int, Field(ge=0, le=9)] = 0
    # Customers' own label templates: YAML files (docs/labels.md), relative to config.yaml.
    templates: list[str] = []


class CartonSettings(_Section):
    """A shipping carton the packers can use: inside size, tare and the weight it may carry."""

    code: Annotated[str, Field(pattern=r"^[A-Z0-9][A-Z0-9-]{0,23}$")]
    name: str = ""
    length_mm: Annotated[int, Field(ge=1, le=5000)]
    width_mm: Annotated[int, Field(ge=1, le=5000)]
    height_mm: Annotated[int, Field(ge=1, le=5000)]
    max_weight_g: Annotated[int, Field(ge=1, le=2_000_000)]
    tare_g: Annotated[int, Field(ge=0, le=100_000)] = 0


class PackStationSettings(_Section):
    """A pack station: its location on the floor, its label printer, its fixed scanner."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
    location: str
    printer: str | None = None
    scanner: str | None = None


class PickingSettings(_Section):
    """How work is released and batched."""

    totes_per_cart: Annotated[int, Field(ge=1, le=64)] = 8
    tote_max_units: Annotated[int, Field(ge=1)] | None = 20
    # One-way aisles, by zone then aisle code: up (front to back) or down (back to front).
    one_way_aisles: dict[str, dict[str, Literal["up", "down"]]] = {}
    # Continuous release: open pick tasks per zone, orders waiting per pack station.
    zone_wip_limit: Annotated[int, Field(ge=1)] = 400
    pack_station_wip_limit: Annotated[int, Field(ge=1)] = 60


class Settings(_Section):
    """The whole of config.yaml."""

    site_name: str = "Demo warehouse"
    language: str = "en"
    database: DatabaseSettings = DatabaseSettings()
    server: ServerSettings = ServerSettings()
    zones: list[ZoneSettings] = []
    devices: list[DeviceSettings] = []
    printers: list[PrinterSettings] = []
    labels: LabelSettings = LabelSettings()
    picking: PickingSettings = PickingSettings()
    cartons: list[CartonSettings] = []
    pack_stations: list[PackStationSettings] = []

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"expected one of {', '.join(LANGUAGES)}")
        return value

    @model_validator(mode="after")
    def _references_resolve(self) -> Settings:
        zone_codes = {z.code for z in self.zones}
        problems = []
        for kind, names in (
            ("zone", [z.code for z in self.zones]),
            ("device", [d.name for d in self.devices]),
            ("printer", [p.name for p in self.printers]),
            ("carton", [c.code for c in self.cartons]),
            ("pack station", [p.name for p in self.pack_stations]),
        ):
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                problems.append(f"{kind} names must be unique; repeated: {', '.join(duplicates)}")
        for zone_code in self.picking.one_way_aisles:
            if zone_code not in zone_codes:
                problems.append(
                    f"picking.one_way_aisles names zone {zone_code!r}, which is not among zones"
                )
        for device in self.devices:
            if device.order_complete is not None and device.order_complete not in device.lights:
                problems.append(
                    f"device {device.name!r}: order_complete {device.order_complete!r} "
                    "must be one of its lights"
                )
            if device.zone is not None and device.zone not in zone_codes:
                problems.append(
                    f"device {device.name!r} names zone {device.zone!r}, which is not among "
                    f"zones ({', '.join(sorted(zone_codes)) or 'none defined'})"
                )
        printer_names = {p.name for p in self.printers}
        device_names = {d.name for d in self.devices}
        for station in self.pack_stations:
            if station.printer is not None and station.printer not in printer_names:
                problems.append(
                    f"pack station {station.name!r} names printer {station.printer!r}, which is "
                    f"not among printers ({', '.join(sorted(printer_names)) or 'none defined'})"
                )
            if station.scanner is not None and station.scanner not in device_names:
                problems.append(
                    f"pack station {station.name!r} names scanner {station.scanner!r}, which is "
                    "not among devices"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def pack_station(self, name: str) -> PackStationSettings | None:
        """The pack station called ``name``, if configured."""
        return next((p for p in self.pack_stations if p.name == name), None)

    def station_printer(self, station: str) -> PrinterSettings | None:
        """The label printer of a pack station: the one it names, else one serving it."""
        configured = self.pack_station(station)
        wanted = configured.printer if configured else None
        for printer in self.printers:
            if printer.name == wanted or (wanted is None and printer.station == station):
                return printer
        return None


def _describe(error: Mapping[str, Any]) -> str:
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"{key}: unknown key (misspelt? see the comments in config.yaml for valid keys)"
    if error["type"] == "missing":
        return f"{key}: missing; this key is required"
    return f"{key} = {error['input']!r}: {message}"


def parse_settings(data: Any, source: str = DEFAULT_CONFIG_FILE) -> Settings:
    """Validate a mapping (from YAML) into :class:`Settings` or raise :class:`ConfigError`."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(source, [f"(top level) = {data!r}: expected a mapping of keys"])
    try:
        return Settings.model_validate(data)
    except ValidationError as error:
        raise ConfigError(source, [_describe(e) for e in error.errors()]) from None


def _resolve_sqlite_path(url: str, base: Path) -> str:
    """Make a relative SQLite path relative to the config file, not to the current directory."""
    match = re.match(r"^(sqlite(?:\+\w+)?:///)(?!/)(.+)$", url)
    if not match or match.group(2).startswith(":memory:"):
        return url
    path = (base / match.group(2)).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"{match.group(1)}{path}"


def load_settings(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Read config.yaml (or ``WMS_CONFIG``), apply ``WMS_DATABASE_URL``, and validate."""
    env = os.environ if env is None else env
    config_path = Path(path or env.get("WMS_CONFIG") or DEFAULT_CONFIG_FILE)
    source = str(config_path)
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            source, [f"file not found (looked in {config_path.resolve().parent})"]
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(source, [f"not valid YAML: {error}"]) from None
    if isinstance(data, dict) and env.get("WMS_DATABASE_URL"):
        database = {**(data.get("database") or {}), "url": env["WMS_DATABASE_URL"]}
        data = {**data, "database": database}
    settings = parse_settings(data, source)
    base = config_path.resolve().parent
    url = _resolve_sqlite_path(settings.database.url, base)
    templates = [str(base / path) for path in settings.labels.templates]
    problems = label_template_problems(templates)
    if problems:
        raise ConfigError(source, problems)
    return settings.model_copy(
        update={
            "database": DatabaseSettings(url=url),
            "labels": settings.labels.model_copy(update={"templates": templates}),
        }
    )


def label_registry(paths: list[str]) -> TemplateRegistry:
    """The built-in label templates plus the customers' own, read from ``paths``."""
    registry = TemplateRegistry()
    for path in paths:
        registry.register(template_from_dict(yaml.safe_load(Path(path).read_text("utf-8"))))
    return registry


def label_template_problems(paths: list[str]) -> list[str]:
    """What is wrong with the label template files, one message each (empty: all fine)."""
    problems = []
    registry = TemplateRegistry()
    for path in paths:
        try:
            raw = yaml.safe_load(Path(path).read_text("utf-8"))
            if not isinstance(raw, dict):
                raise TemplateError("expected a YAML mapping")
            registry.register(template_from_dict(raw))
        except (OSError, yaml.YAMLError, TemplateError) as error:
            problems.append(f"labels.templates: {path}: {error}")
    return problems
