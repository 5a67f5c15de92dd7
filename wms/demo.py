"""A seeded, deterministic demo warehouse: layout, items, stock, customers, orders and users.

Everything random comes from one ``random.Random(seed)``, so the same seed (and the same
``now``) gives the same SKUs, locations, lots and orders on every machine and database.
Bulk rows go through the importer's chunked Core inserts: 50,000 locations and 100,000
orders are written in seconds, where one ORM object per row would take minutes.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from sqlalchemy import Table, exists, insert, select

from labels.gs1 import normalise_gtin, with_check_digit
from wms.access import NewUser, create_api_token, create_user
from wms.catalog import NewGtin, NewItem, NewLocation, ensure_zone
from wms.db import Database
from wms.db.schema import metadata
from wms.errors import Conflict, InvalidInput
from wms.importer import Receipt, insert_items, insert_locations, insert_orders, receive_in_bulk
from wms.model import LocationType, OrderKind, Role, ZoneKind
from wms.orders import NewOrder, NewOrderLine

__all__ = ["DEMO_LOGINS", "DemoLogin", "DemoSummary", "generate_demo"]

Progress = Callable[[str, int, int], None]

_location: Table = metadata.tables["location"]
_item: Table = metadata.tables["item"]
_customer: Table = metadata.tables["customer"]


@dataclass(frozen=True, slots=True)
class DemoLogin:
    """A demo user's credentials, printed by ``wms demo`` so that anyone can try each role."""

    username: str
    password: str
    role: Role
    badge: str | None
    language: str
    display_name: str


DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("admin", "admin-demo", Role.ADMIN, "BADGE-0001", "en", "Alex Admin"),
    DemoLogin("super", "super-demo", Role.SUPERVISOR, "BADGE-0002", "en", "Sophie Leclercq"),
    DemoLogin("pack1", "pack1-demo", Role.PACKER, "BADGE-0003", "en", "Tom Willems"),
    DemoLogin("picker1", "picker1-demo", Role.PICKER, "BADGE-0011", "en", "Jamie Peeters"),
    DemoLogin("picker2", "picker2-demo", Role.PICKER, "BADGE-0012", "fr", "Camille Dubois"),
    DemoLogin("picker3", "picker3-demo", Role.PICKER, "BADGE-0013", "nl", "Lotte Janssens"),
    DemoLogin("picker4", "picker4-demo", Role.PICKER, "BADGE-0014", "en", "Noah Maes"),
    DemoLogin("erp", "erp-demo-1", Role.INTEGRATION, None, "en", "ERP integration"),
)
"""The demo's users: one of each role, pickers in English, French and Dutch, and the ERP."""


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What :func:`generate_demo` created, with the ERP's API token (shown once)."""

    seed: int
    zones: int
    pick_locations: int
    reserve_locations: int
    shipping_locations: int
    items: int
    gtins: int
    lot_tracked_items: int
    stock_rows: int
    receipts: int
    customers: int
    b2c_orders: int
    b2b_orders: int
    order_lines: int
    users: int
    api_token: str = field(repr=False)

    @property
    def locations(self) -> int:
        """Every location: pick faces, reserve, and the pack-and-ship area."""
        return self.pick_locations + self.reserve_locations + self.shipping_locations

    def describe(self) -> str:
        """Two lines for the console: what the demo warehouse holds."""
        return (
            f"{self.zones} zones, {self.locations} locations ({self.pick_locations} pick faces, "
            f"{self.reserve_locations} reserve, {self.shipping_locations} pack and ship); "
            f"{self.items} items with {self.gtins} GTINs ({self.lot_tracked_items} lot-tracked)\n"
            f"  {self.stock_rows} stock rows from {self.receipts} receipts; {self.customers} "
            f"customers; {self.b2c_orders} B2C and {self.b2b_orders} B2B orders "
            f"({self.order_lines} lines); {self.users} users (seed {self.seed})"
        )


# --------------------------------------------------------------------------- word lists


@dataclass(frozen=True, slots=True)
class _Product:
    family: str
    name: str
    sizes: tuple[str, ...]
    size_mm: tuple[int, int, int]
    weight_g: int
    coloured: bool = False


_GENERAL = (
    _Product("KIT", "Stoneware mug", ("350 ml", "450 ml"), (120, 90, 100), 340, True),
    _Product("KIT", "Glass tumbler", ("250 ml", "330 ml"), (80, 80, 110), 220),
    _Product("KIT", "Enamel saucepan", ("16 cm", "20 cm"), (300, 170, 110), 900, True),
    _Product("KIT", "Chef's knife", ("20 cm",), (340, 60, 25), 210),
    _Product("KIT", "Bamboo cutting board", ("30 x 20 cm", "40 x 28 cm"), (300, 200, 20), 800),
    _Product("KIT", "Cast iron skillet", ("24 cm", "28 cm"), (420, 250, 60), 2400),
    _Product("KIT", "Porcelain dinner plate", ("27 cm",), (270, 270, 25), 620, True),
    _Product("KIT", "Stainless steel bottle", ("500 ml", "750 ml"), (75, 75, 260), 330, True),
    _Product("KIT", "Coffee press", ("350 ml", "1 l"), (150, 100, 200), 520),
    _Product("KIT", "Tea towel set", ("2 pcs", "3 pcs"), (250, 180, 20), 160, True),
    _Product("HOM", "Linen cushion cover", ("45 x 45 cm", "50 x 50 cm"), (300, 220, 30), 180, True),
    _Product("HOM", "Wool throw", ("130 x 170 cm",), (350, 300, 80), 1100, True),
    _Product("HOM", "Cotton bath towel", ("50 x 100 cm", "70 x 140 cm"), (300, 250, 60), 480, True),
    _Product("HOM", "Storage basket", ("S", "M", "L"), (300, 250, 200), 450, True),
    _Product("HOM", "Photo frame", ("10 x 15 cm", "13 x 18 cm"), (200, 150, 25), 300),
    _Product("HOM", "Table lamp", ("E27",), (250, 250, 420), 1500, True),
    _Product("HOM", "Wall clock", ("30 cm",), (310, 310, 50), 700),
    _Product("HOM", "Coat hangers", ("10 pcs",), (450, 220, 60), 900),
    _Product("OFF", "Dotted notebook", ("A5", "A4"), (210, 148, 15), 280, True),
    _Product("OFF", "Ballpoint pens", ("10 pcs",), (160, 60, 15), 80),
    _Product("OFF", "Ring binder", ("A4",), (320, 290, 60), 420, True),
    _Product("OFF", "Sticky notes", ("12 pads",), (80, 80, 90), 300),
    _Product("OFF", "Printer paper", ("A4, 500 sheets",), (297, 210, 50), 2500),
    _Product("ELE", "AA batteries", ("4 pcs", "12 pcs"), (100, 60, 15), 110),
    _Product("ELE", "LED bulb E27", ("806 lm", "1055 lm"), (70, 70, 120), 60),
    _Product("ELE", "USB-C cable", ("1 m", "2 m"), (150, 100, 20), 60),
    _Product("ELE", "LED torch", ("200 lm",), (180, 50, 50), 190),
    _Product("ELE", "Extension lead", ("3 sockets", "5 sockets"), (300, 80, 50), 500),
    _Product("ELE", "Wireless mouse", ("",), (120, 80, 50), 110, True),
    _Product("TOY", "Wooden building blocks", ("50 pcs",), (300, 200, 100), 1200),
    _Product("TOY", "Jigsaw puzzle", ("500 pcs", "1000 pcs"), (370, 270, 60), 650),
    _Product("TOY", "Plush bear", ("30 cm",), (300, 200, 150), 250, True),
    _Product("TOY", "Card game", ("",), (100, 70, 30), 120),
    _Product("OUT", "Garden gloves", ("M", "L"), (250, 120, 20), 110),
    _Product("OUT", "Watering can", ("5 l",), (500, 200, 320), 600, True),
    _Product("OUT", "Plant pot", ("14 cm", "21 cm"), (150, 150, 140), 500, True),
    _Product("OUT", "Bird feeder", ("",), (200, 200, 250), 450),
    _Product("OUT", "Yoga mat", ("6 mm",), (620, 130, 130), 900, True),
    _Product("TOL", "Screwdriver set", ("6 pcs",), (220, 120, 40), 420),
    _Product("TOL", "Tape measure", ("5 m",), (75, 75, 40), 190),
    _Product("TOL", "Claw hammer", ("450 g",), (330, 120, 35), 650),
    _Product("TOL", "Cable ties", ("100 pcs",), (210, 80, 20), 120),
)

# Food and cosmetics: lot- and expiry-tracked.
_TRACKED = (
    _Product("FOO", "Organic green tea", ("20 bags",), (130, 70, 70), 60),
    _Product("FOO", "Dark chocolate 72%", ("100 g",), (160, 80, 10), 105),
    _Product("FOO", "Belgian speculoos", ("250 g",), (210, 70, 50), 260),
    _Product("FOO", "Extra virgin olive oil", ("500 ml", "1 l"), (70, 70, 290), 900),
    _Product("FOO", "Espresso beans", ("250 g", "1 kg"), (200, 120, 70), 1020),
    _Product("FOO", "Wildflower honey", ("250 g", "450 g"), (70, 70, 100), 420),
    _Product("FOO", "Strawberry jam", ("370 g",), (75, 75, 110), 560),
    _Product("FOO", "Fusilli pasta", ("500 g",), (200, 120, 60), 510),
    _Product("FOO", "Basmati rice", ("1 kg",), (180, 120, 60), 1010),
    _Product("FOO", "Crunchy granola", ("375 g",), (200, 140, 50), 400),
    _Product("FOO", "Tomato passata", ("690 g",), (80, 80, 170), 950),
    _Product("COS", "Hand cream", ("75 ml",), (150, 50, 35), 90),
    _Product("COS", "Lavender shampoo", ("250 ml",), (190, 60, 40), 280),
    _Product("COS", "Shea body lotion", ("200 ml",), (170, 60, 40), 240),
    _Product("COS", "Lip balm", ("4.8 g",), (70, 20, 20), 10),
    _Product("COS", "Sunscreen SPF 50", ("100 ml", "200 ml"), (160, 60, 35), 230),
    _Product("COS", "Mint toothpaste", ("75 ml",), (190, 45, 35), 120),
    _Product("COS", "Citrus shower gel", ("250 ml",), (200, 70, 40), 290),
    _Product("COS", "Face serum", ("30 ml",), (110, 40, 40), 80),
)

_COLOURS = (
    "white",
    "charcoal",
    "sage green",
    "terracotta",
    "ocean blue",
    "mustard",
    "sand",
    "black",
    "blush pink",
    "forest green",
)
_FAMILY_NAMES = {
    "KIT": "Kitchen and dining",
    "HOM": "Home and textiles",
    "OFF": "Office",
    "ELE": "Electrical",
    "TOY": "Toys and games",
    "OUT": "Garden and outdoor",
    "TOL": "Tools",
    "FOO": "Food",
    "COS": "Personal care",
}


@dataclass(frozen=True, slots=True)
class _Country:
    code: str
    weight: float
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    streets: tuple[str, ...]
    cities: tuple[tuple[str, str], ...]
    carriers: tuple[tuple[str, float], ...]
    number_first: bool = False  # "12 rue Victor Hugo" in France, "Kerkstraat 12" elsewhere


_COUNTRIES = (
    _Country(
        "BE",
        0.5,
        ("Emma", "Louis", "Olivia", "Arthur", "Lucas", "Mila", "Noah", "Lina", "Jules", "Elena"),
        ("Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Dubois", "Lambert"),
        ("Rue de la Loi", "Kerkstraat", "Chaussée de Wavre", "Meir", "Stationsstraat"),
        (
            ("1000", "Bruxelles"),
            ("1050", "Ixelles"),
            ("2000", "Antwerpen"),
            ("9000", "Gent"),
            ("4000", "Liège"),
            ("5000", "Namur"),
            ("3000", "Leuven"),
            ("8000", "Brugge"),
            ("6000", "Charleroi"),
            ("2800", "Mechelen"),
        ),
        (("bpost", 0.5), ("DPD", 0.25), ("DHL", 0.15), ("PostNL", 0.1)),
    ),
    _Country(
        "NL",
        0.3,
        ("Daan", "Sem", "Lieke", "Fleur", "Bram", "Sanne", "Jesse", "Anouk", "Ruben", "Femke"),
        ("de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer"),
        ("Kalverstraat", "Dorpsstraat", "Hoofdweg", "Molenstraat", "Julianalaan", "Oudegracht"),
        (
            ("1012 AB", "Amsterdam"),
            ("3011 AA", "Rotterdam"),
            ("3511 AA", "Utrecht"),
            ("2511 AA", "Den Haag"),
            ("5611 AA", "Eindhoven"),
            ("9711 AA", "Groningen"),
            ("6511 AA", "Nijmegen"),
            ("6211 AA", "Maastricht"),
        ),
        (("PostNL", 0.6), ("DHL", 0.25), ("DPD", 0.15)),
    ),
    _Country(
        "FR",
        0.2,
        ("Camille", "Léa", "Hugo", "Chloé", "Gabriel", "Manon", "Inès", "Raphaël", "Jade", "Théo"),
        ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Moreau"),
        ("rue de Rivoli", "avenue Jean Jaurès", "rue Victor Hugo", "boulevard Voltaire"),
        (
            ("75011", "Paris"),
            ("59000", "Lille"),
            ("69002", "Lyon"),
            ("13001", "Marseille"),
            ("33000", "Bordeaux"),
            ("44000", "Nantes"),
            ("67000", "Strasbourg"),
            ("31000", "Toulouse"),
        ),
        (("DPD", 0.6), ("DHL", 0.4)),
        number_first=True,
    ),
)

_SERVICES = {
    "bpost": ("24h Pro", "Pick-up point"),
    "PostNL": ("Standard", "Pick-up point"),
    "DPD": ("Classic", "Predict"),
    "DHL": ("Parcel Connect", "Express"),
}
# Hour (UTC) of each carrier's last collection of the day: orders must be packed by then.
_CUT_OFF_HOUR = {"DPD": 14, "DHL": 16, "PostNL": 16, "bpost": 18}
_ROLL_OVER_HOUR = 12  # from noon (UTC) on, the demo's orders are for the next day


@dataclass(frozen=True, slots=True)
class _Customer:
    code: str
    name: str
    kind: OrderKind
    min_shelf_life_days: int
    label_template: str | None
    address: str
    postcode: str
    city: str
    country: str


_CUSTOMERS = (
    _Customer("WEBSHOP", "Webshop", OrderKind.B2C, 0, None, "", "", "", ""),
    _Customer(
        "HORTUS",
        "Hortus Tuincentra NV",
        OrderKind.B2B,
        30,
        "hortus-case",
        "Industrieweg 12",
        "2880",
        "Bornem",
        "BE",
    ),
    _Customer(
        "BRAVO",
        "Bravo Retail SA",
        OrderKind.B2B,
        90,
        "gs1-logistic",
        "Rue de l'Industrie 45",
        "1400",
        "Nivelles",
        "BE",
    ),
    _Customer(
        "KOOPMAN",
        "Koopman Supermarkten BV",
        OrderKind.B2B,
        120,
        "koopman-pallet",
        "Distributieweg 3",
        "3446 AA",
        "Woerden",
        "NL",
    ),
    _Customer(
        "LUMIERE",
        "Maison Lumière SARL",
        OrderKind.B2B,
        60,
        "gs1-logistic",
        "8 rue Clément Ader",
        "59160",
        "Lomme",
        "FR",
    ),
    _Customer(
        "NOORDZEE",
        "Noordzee Horeca BV",
        OrderKind.B2B,
        45,
        "gs1-logistic",
        "Havenstraat 21",
        "8400",
        "Oostende",
        "BE",
    ),
)

# --------------------------------------------------------------------------- layout

_AISLE_SPACING_M = 3.0
_BAY_WIDTH_M = 1.2
_ZONE_GAP_M = 6.0
_A_SHARE = 0.7


def _rack_zone(
    zone: str, count: int, levels: int, x0: float, location_type: LocationType
) -> tuple[list[NewLocation], float]:
    """``count`` rack locations walked in an S-shape; return them and the x where racks end.

    Odd bays are on the left of the aisle and even bays on the right, opposite each other, so
    a picker takes both sides of a bay pair in one stop. Aisles are walked front to back and
    back to front in turn (the S-shape), entering and leaving by the cross-aisles at y=0 and
    y=aisle length. x is the aisle's centre line, where the picker walks.
    """
    slots = math.ceil(count / levels)
    pairs = min(20, max(2, math.ceil(math.sqrt(slots / 2))))
    aisles = math.ceil(slots / (2 * pairs))
    width = max(2, len(str(aisles)))
    locations: list[NewLocation] = []
    for aisle in range(1, aisles + 1):
        x = x0 + (aisle - 1) * _AISLE_SPACING_M
        positions = range(pairs) if aisle % 2 else range(pairs - 1, -1, -1)
        for position in positions:
            y = round((position + 0.5) * _BAY_WIDTH_M, 2)
            for bay in (2 * position + 1, 2 * position + 2):
                for level in range(1, levels + 1):
                    if len(locations) == count:
                        return locations, x
                    code = f"{zone}-{aisle:0{width}d}-{bay:02d}-{level}"
                    locations.append(
                        NewLocation(
                            code=code,
                            zone=zone,
                            type=location_type,
                            barcode=code,
                            aisle=f"{aisle:0{width}d}",
                            bay=f"{bay:02d}",
                            level=str(level),
                            walk_sequence=len(locations) + 1,
                            x=x,
                            y=y,
                        )
                    )
    return locations, x0 + (aisles - 1) * _AISLE_SPACING_M


def _shipping_zone() -> list[NewLocation]:
    """The area in front of the racks (y < 0): put wall, pack stations, staging lanes, docks."""
    places: list[tuple[str, LocationType, str, float, float]] = []
    for slot in range(1, 25):
        places.append((f"PW-{slot:02d}", LocationType.PUT_WALL_SLOT, f"{slot:02d}", slot, -3.0))
    for n in range(1, 5):
        places.append((f"PACK-{n}", LocationType.PACK_STATION, "", 4.0 * n, -8.0))
    for n in range(1, 7):
        places.append((f"STAGE-{n:02d}", LocationType.STAGING, "", 3.0 * n, -13.0))
    for n in range(1, 4):
        places.append((f"DOCK-{n}", LocationType.DOCK, "", 6.0 * n, -18.0))
    return [
        NewLocation(code, "S", kind, barcode=code, slot=slot, walk_sequence=i, x=x, y=y)
        for i, (code, kind, slot, x, y) in enumerate(places, start=1)
    ]


# --------------------------------------------------------------------------- items and stock


@dataclass(frozen=True, slots=True)
class _DemoItem:
    new: NewItem
    zone: str
    case_quantity: int  # 0 when the item has no case GTIN
    tracked: bool
    popularity: float


def _items(rng: random.Random, count: int, prefix: str) -> list[_DemoItem]:
    reference_digits = 12 - len(prefix)
    items = []
    for index in range(1, count + 1):
        tracked = rng.random() < 0.15
        product = rng.choice(_TRACKED if tracked else _GENERAL)
        size_index = rng.randrange(len(product.sizes))
        size = product.sizes[size_index]
        name = f"{product.name} {size}".strip()
        if product.coloured:
            name += f", {rng.choice(_COLOURS)}"
        scale = 1 + 0.3 * size_index
        length, width, height = (
            max(1, round(d * scale * rng.uniform(0.9, 1.1))) for d in product.size_mm
        )
        unit_gtin = with_check_digit(prefix + str(index).zfill(reference_digits))
        gtins = [NewGtin(normalise_gtin(unit_gtin))]
        case_quantity = 0
        if rng.random() < 0.6:
            case_quantity = rng.choice((6, 12, 24))
            # GTIN-14 of the case: indicator digit 1, the unit's 12 digits, a new check digit.
            gtins.append(NewGtin(with_check_digit("1" + unit_gtin[:12]), case_quantity))
        zone = "B" if case_quantity and rng.random() < 0.4 else "A"
        description = f"{_FAMILY_NAMES[product.family]}. Demo item {index}."
        items.append(
            _DemoItem(
                NewItem(
                    sku=f"{product.family}-{index:05d}",
                    name=name,
                    description=description,
                    gtins=tuple(gtins),
                    length_mm=length,
                    width_mm=width,
                    height_mm=height,
                    weight_g=max(1, round(product.weight_g * scale * rng.uniform(0.9, 1.1))),
                    lot_tracked=tracked,
                    expiry_tracked=tracked,
                ),
                zone,
                case_quantity,
                tracked,
                rng.paretovariate(1.2),
            )
        )
    return items


def _lot(rng: random.Random, produced: dt.date) -> str:
    """A lot number as printed on cartons: L, year, ISO week, production line ("L2611-07")."""
    year, week, _ = produced.isocalendar()
    return f"L{year % 100:02d}{week:02d}-{rng.randint(1, 12):02d}"


def _stock(
    rng: random.Random,
    items: Sequence[_DemoItem],
    faces: dict[str, list[str]],
    reserve: list[str],
    today: dt.date,
) -> list[tuple[str, str, int, str, dt.date | None]]:
    """Receipts as (location code, SKU, quantity, lot, expiry): 1-2 pick faces and reserve.

    Lot-tracked items get their oldest lot at the pick face and a later one in reserve, so
    FEFO has a real choice; a few pick-face lots expire soon, none has expired. The first
    lot-tracked item also has an expired lot in reserve, which allocation must never take.
    """
    pools = {zone: rng.sample(codes, len(codes)) for zone, codes in faces.items() if codes}
    cursors = dict.fromkeys(pools, 0)
    reserve_pool = rng.sample(reserve, len(reserve))
    receipts: list[tuple[str, str, int, str, dt.date | None]] = []
    expired_lot_given = False
    for index, item in enumerate(items):
        zone = item.zone if item.zone in pools else next(iter(pools))
        pool = pools[zone]
        face_count = min(len(pool), 1 if rng.random() < 0.7 else 2)
        item_faces = [pool[(cursors[zone] + k) % len(pool)] for k in range(face_count)]
        cursors[zone] += face_count
        case = item.case_quantity
        lot, expiry, reserve_lot, reserve_expiry = "", None, "", None
        if item.tracked:
            soon = rng.random() < 0.05
            expiry = today + dt.timedelta(days=rng.randint(3, 20) if soon else rng.randint(60, 400))
            # Produced 21+ and at most 13 days ago: never the same ISO week, so never one lot.
            lot = _lot(rng, today - dt.timedelta(days=rng.randint(21, 150)))
            reserve_expiry = expiry + dt.timedelta(days=rng.randint(30, 120))
            reserve_lot = _lot(rng, today - dt.timedelta(days=rng.randint(0, 13)))
        for code in item_faces:
            quantity = case * rng.randint(2, 6) if case else rng.randint(8, 60)
            receipts.append((code, item.new.sku, quantity, lot, expiry))
        reserve_code = reserve_pool[index % len(reserve_pool)]
        quantity = case * rng.randint(10, 40) if case else rng.randint(50, 300)
        receipts.append((reserve_code, item.new.sku, quantity, reserve_lot, reserve_expiry))
        if item.tracked and not expired_lot_given:
            expired = today - dt.timedelta(days=7)
            old_lot = _lot(rng, expired - dt.timedelta(days=365))
            receipts.append((reserve_code, item.new.sku, case or 24, old_lot, expired))
            expired_lot_given = True
    return receipts


# --------------------------------------------------------------------------- orders


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def _b2c_orders(
    rng: random.Random, count: int, items: Sequence[_DemoItem], today: dt.date
) -> list[NewOrder]:
    """Webshop parcels: mostly one or two lines of one unit, due today by carrier cut-off."""
    fast = [i for i in items if i.zone == "A"] or list(items)
    skus = [i.new.sku for i in fast]
    cumulative = list(accumulate(i.popularity for i in fast))
    country_weights = list(accumulate(c.weight for c in _COUNTRIES))
    carriers = {c.code: [name for name, _ in c.carriers] for c in _COUNTRIES}
    carrier_weights = {c.code: list(accumulate(w for _, w in c.carriers)) for c in _COUNTRIES}
    result = []
    for n in range(1, count + 1):
        country = rng.choices(_COUNTRIES, cum_weights=country_weights)[0]
        r = rng.random()
        line_count = 1 if r < 0.65 else 2 if r < 0.9 else 3 if r < 0.97 else 4
        chosen = dict.fromkeys(rng.choices(skus, cum_weights=cumulative, k=line_count))
        lines = [NewOrderLine(sku, 1 if rng.random() < 0.85 else 2) for sku in chosen]
        carrier = rng.choices(carriers[country.code], cum_weights=carrier_weights[country.code])[0]
        street, number = rng.choice(country.streets), rng.randint(1, 180)
        postcode, city = rng.choice(country.cities)
        r = rng.random()
        result.append(
            NewOrder(
                number=f"WS-{100000 + n}",
                kind=OrderKind.B2C,
                lines=lines,
                customer="WEBSHOP",
                ship_to_name=f"{rng.choice(country.first_names)} {rng.choice(country.last_names)}",
                ship_to_address=(
                    f"{number} {street}" if country.number_first else f"{street} {number}"
                ),
                ship_to_postcode=postcode,
                ship_to_city=city,
                ship_to_country=country.code,
                priority=0 if r < 0.85 else 1 if r < 0.97 else 2,
                cut_off=_at(today, _CUT_OFF_HOUR[carrier]),
                carrier=carrier,
                service=rng.choice(_SERVICES[carrier]),
            )
        )
    return result


def _b2b_orders(
    rng: random.Random, count: int, items: Sequence[_DemoItem], today: dt.date
) -> list[NewOrder]:
    """Store deliveries: 5-30 lines in whole cases, to a dock, in a window tomorrow."""
    cased = [i for i in items if i.case_quantity] or list(items)
    customers = [c for c in _CUSTOMERS if c.kind is OrderKind.B2B]
    tomorrow = today + dt.timedelta(days=1)
    result = []
    for n in range(1, count + 1):
        customer = rng.choice(customers)
        chosen = rng.sample(cased, min(len(cased), rng.randint(5, 30)))
        lines = [
            NewOrderLine(
                i.new.sku,
                i.case_quantity * rng.randint(1, 10) if i.case_quantity else rng.randint(5, 50),
            )
            for i in chosen
        ]
        start = _at(tomorrow, rng.choice((5, 7, 9, 12)))
        carrier, service = rng.choice((("DHL Freight", "Pallet"), ("Own fleet", "Route")))
        result.append(
            NewOrder(
                number=f"SO-{n:06d}",
                kind=OrderKind.B2B,
                lines=lines,
                customer=customer.code,
                ship_to_name=customer.name,
                ship_to_address=customer.address,
                ship_to_postcode=customer.postcode,
                ship_to_city=customer.city,
                ship_to_country=customer.country,
                priority=1 if rng.random() < 0.2 else 0,
                # Loaded the evening before delivery.
                cut_off=_at(today, 20),
                carrier=carrier,
                service=service,
                delivery_window_start=start,
                delivery_window_end=start + dt.timedelta(hours=4),
                dock=f"DOCK-{rng.randint(1, 3)}",
                label_requirements={"sscc": True, "template": customer.label_template},
            )
        )
    return result


# --------------------------------------------------------------------------- entry point


def _check_arguments(pick_locations: int, items: int, b2c: int, b2b: int, prefix: str) -> None:
    if pick_locations < 4:
        raise InvalidInput("the demo needs at least 4 pick locations", field="pick_locations")
    if items < 1:
        raise InvalidInput("the demo needs at least 1 item", field="items")
    if b2c < 0 or b2b < 0:
        raise InvalidInput("order counts cannot be negative", field="b2c_orders")
    if not prefix.isdigit() or not 6 <= len(prefix) <= 11:
        raise InvalidInput(
            f"GS1 company prefix {prefix!r}: expected 6 to 11 digits", field="gs1_company_prefix"
        )
    capacity = 10 ** (12 - len(prefix)) - 1
    if items > capacity:
        raise InvalidInput(
            f"GS1 company prefix {prefix} leaves room for {capacity} GTINs; {items} items asked",
            field="items",
        )


def generate_demo(
    db: Database,
    *,
    seed: int = 42,
    pick_locations: int = 1000,
    items: int = 500,
    b2c_orders: int = 200,
    b2b_orders: int = 10,
    gs1_company_prefix: str = "5412345",
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> DemoSummary:
    """Fill an empty database with a realistic, seeded demo warehouse in one transaction.

    ``now`` (default: the current time) anchors cut-offs, delivery windows and expiry dates
    (from noon on, the next day's); pass it to get identical data on another day.
    """
    _check_arguments(pick_locations, items, b2c_orders, b2b_orders, gs1_company_prefix)
    report = progress or (lambda _phase, _done, _total: None)
    rng = random.Random(seed)
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    # The orders are for the shift ahead: started in the afternoon or evening, the demo's
    # cut-offs (14:00-20:00) fall tomorrow rather than all being overdue at once.
    today = moment.date() + dt.timedelta(days=1 if moment.hour >= _ROLL_OVER_HOUR else 0)

    a_count = max(2, round(pick_locations * _A_SHARE))
    a_faces, x_end = _rack_zone("A", a_count, 4, 0.0, LocationType.PICK_FACE)
    b_faces, x_end = _rack_zone(
        "B", pick_locations - a_count, 3, x_end + _ZONE_GAP_M, LocationType.PICK_FACE
    )
    reserve, _ = _rack_zone(
        "R", max(1, pick_locations // 4), 5, x_end + _ZONE_GAP_M, LocationType.RESERVE
    )
    shipping = _shipping_zone()
    locations = a_faces + b_faces + reserve + shipping
    demo_items = _items(rng, items, gs1_company_prefix)
    receipts = _stock(
        rng,
        demo_items,
        {"A": [loc.code for loc in a_faces], "B": [loc.code for loc in b_faces]},
        [loc.code for loc in reserve],
        today,
    )
    new_orders = _b2c_orders(rng, b2c_orders, demo_items, today) + _b2b_orders(
        rng, b2b_orders, demo_items, today
    )

    with db.write() as session:
        if session.scalar(select(exists().where(_location.c.id.is_not(None)))) or session.scalar(
            select(exists().where(_item.c.id.is_not(None)))
        ):
            raise Conflict("the demo needs an empty database: it already has locations or items")
        zones = [
            ensure_zone(session, "A", "Fast movers (B2C cluster picking)", ZoneKind.HANDHELD),
            ensure_zone(session, "B", "Bulk, cases and pallets (B2B)", ZoneKind.HANDHELD),
            ensure_zone(session, "R", "Reserve", ZoneKind.RESERVE),
            ensure_zone(session, "S", "Pack and ship", ZoneKind.SHIPPING),
        ]
        report("locations", 0, len(locations))
        location_ids = insert_locations(
            session,
            locations,
            {z.code: z.id for z in zones},
            progress=lambda done: report("locations", done, len(locations)),
        )

        report("items", 0, len(demo_items))
        item_ids = insert_items(
            session,
            [i.new for i in demo_items],
            progress=lambda done: report("items", done, len(demo_items)),
        )

        report("stock", 0, len(receipts))
        receive_in_bulk(
            session,
            [
                Receipt(location_ids[code], item_ids[sku], quantity, lot, expiry)
                for code, sku, quantity, lot, expiry in receipts
            ],
            progress=lambda done: report("stock", done, len(receipts)),
        )

        session.execute(
            insert(_customer),
            [
                {
                    "code": c.code,
                    "name": c.name,
                    "kind": c.kind,
                    "min_shelf_life_days": c.min_shelf_life_days,
                    "label_template": c.label_template,
                }
                for c in _CUSTOMERS
            ],
        )
        customer_ids = {
            code: customer_id
            for code, customer_id in session.execute(select(_customer.c.code, _customer.c.id))
        }

        report("orders", 0, len(new_orders))
        order_lines = insert_orders(
            session,
            new_orders,
            item_ids,
            customer_ids,
            detail="demo data",
            progress=lambda done: report("orders", done, len(new_orders)),
        )

        # Hashing is deliberately slow (scrypt), which is why only these few users have one.
        report("users", 0, len(DEMO_LOGINS))
        users = {}
        for done, login in enumerate(DEMO_LOGINS, start=1):
            users[login.username] = create_user(
                session,
                NewUser(
                    username=login.username,
                    display_name=login.display_name,
                    role=login.role,
                    password=login.password,
                    badge=login.badge,
                    language=login.language,
                ),
            )
            report("users", done, len(DEMO_LOGINS))
        api_token = create_api_token(session, users["erp"], "demo ERP connection")

    return DemoSummary(
        seed=seed,
        zones=len(zones),
        pick_locations=len(a_faces) + len(b_faces),
        reserve_locations=len(reserve),
        shipping_locations=len(shipping),
        items=len(demo_items),
        gtins=sum(len(i.new.gtins) for i in demo_items),
        lot_tracked_items=sum(i.tracked for i in demo_items),
        stock_rows=len({(code, sku, lot) for code, sku, _, lot, _ in receipts}),
        receipts=len(receipts),
        customers=len(_CUSTOMERS),
        b2c_orders=b2c_orders,
        b2b_orders=b2b_orders,
        order_lines=order_lines,
        users=len(DEMO_LOGINS),
        api_token=api_token,
    )


def make_light_zone(
    db: Database, *, code: str = "P", from_zone: str = "A", count: int = 24
) -> list[str]:
    """Turn the first ``count`` pick faces of ``from_zone`` into a pick-to-light zone.

    Run after :func:`generate_demo` and before release, so those faces' picks become light
    tasks; returns the location codes, in walk order, for the zone's light bus.
    """
    from wms.db.schema import Location, Zone

    with db.write() as session:
        source = session.scalar(select(Zone).where(Zone.code == from_zone))
        if source is None:
            return []
        zone = ensure_zone(session, code, "Pick-to-light (demo)", ZoneKind.PICK_TO_LIGHT)
        faces = session.scalars(
            select(Location)
            .where(Location.zone_id == source.id, Location.type == LocationType.PICK_FACE)
            .order_by(Location.walk_sequence, Location.id)
            .limit(count)
        ).all()
        for sequence, face in enumerate(faces, start=1):
            face.zone_id, face.walk_sequence = zone.id, sequence
        return [face.code for face in faces]
