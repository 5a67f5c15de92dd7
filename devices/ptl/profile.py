"""Pick-to-light register maps as data: another vendor's map is configuration, not code.

A profile says where each *role* (colour, mode, quantity, the press counters, ...) lives in a
unit's holding registers and which raw value each colour and mode has. ``from_dict`` reads
the documented plain-dict (YAML-able) format, see docs/devices.md:

.. code-block:: yaml

    name: generic-ptl-v1
    address_base: 0          # PDU address = documented register number - address_base
    registers: {color: 0, mode: 1, qty: 2, ack_count: 3, short_count: 4, boot_id: 5}
    colors: {off: 0, red: 1, green: 2, blue: 3, yellow: 4, magenta: 5, cyan: 6, white: 7}
    modes: {off: 0, steady: 1, flash_slow: 2, flash_fast: 3}
    poll: [mode, qty, ack_count, short_count, boot_id]
    qty_max: 9999
    counter_modulo: 65536
    press_turns_off: true
    slots_per_unit: 1        # lights served by one Modbus unit (a put-wall controller: many)
    slot_stride: 6           # registers from one slot to the next; or per role, e.g.
                             # {color: 3, mode: 3, qty: 3, ack_count: 1} for a map that keeps
                             # the lights contiguous and the counters in a block of their own
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from devices.errors import ConfigError

MAX_REGISTER = 0xFFFF


class Color(Enum):
    """Colours a light can show, in the warehouse's words; the profile gives the raw values."""

    OFF = "off"
    RED = "red"
    GREEN = "green"
    BLUE = "blue"
    YELLOW = "yellow"
    MAGENTA = "magenta"
    CYAN = "cyan"
    WHITE = "white"


class Mode(Enum):
    """How a light shows its colour."""

    OFF = "off"
    STEADY = "steady"
    FLASH_SLOW = "flash_slow"
    FLASH_FAST = "flash_fast"


class Role(Enum):
    """What a register means; the profile maps each role to an address."""

    COLOR = "color"
    MODE = "mode"
    QTY = "qty"
    #: Incremented (mod counter_modulo) by the device on every confirm press.
    ACK_COUNT = "ack_count"
    #: Extension: incremented on every short-pick press; qty then holds the keyed-in quantity.
    SHORT_COUNT = "short_count"
    #: Extension: a fresh non-zero value at every power-up, so the host can tell a restart.
    BOOT_ID = "boot_id"


REQUIRED_ROLES = frozenset({Role.COLOR, Role.MODE, Role.QTY, Role.ACK_COUNT})
#: The registers a light-on writes, in this order of roles.
LIGHT_ROLES = (Role.COLOR, Role.MODE, Role.QTY)
#: Roles read once per unit rather than per slot.
UNIT_ROLES = frozenset({Role.BOOT_ID})


@dataclass(frozen=True)
class PtlProfile:
    """A vendor register map for pick-to-light units."""

    name: str
    registers: Mapping[Role, int]
    colors: Mapping[Color, int]
    modes: Mapping[Mode, int]
    poll: tuple[Role, ...]
    address_base: int = 0
    qty_max: int = 9999
    counter_modulo: int = 0x10000
    press_turns_off: bool = True
    slots_per_unit: int = 1
    slot_stride: int = 0
    role_strides: Mapping[Role, int] = field(default_factory=dict)
    description: str = ""
    _color_by_value: Mapping[int, Color] = field(init=False, repr=False, compare=False)
    _mode_by_value: Mapping[int, Mode] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_color_by_value", {v: c for c, v in self.colors.items()})
        object.__setattr__(self, "_mode_by_value", {v: m for m, v in self.modes.items()})
        if self.slots_per_unit > 1 and self.slot_stride == 0:
            object.__setattr__(self, "slot_stride", self._block_span())
        self._validate()

    def has(self, role: Role) -> bool:
        """Whether this map has a register for ``role``."""
        return role in self.registers

    def address(self, role: Role, slot: int = 0) -> int:
        """The PDU address of ``role`` for ``slot`` (0-based) of a unit."""
        if role not in self.registers:
            raise ConfigError(f"profile {self.name} has no {role.value} register")
        if not 0 <= slot < self.slots_per_unit:
            raise ConfigError(f"profile {self.name}: slot {slot} outside 0..{self.slots_per_unit}")
        offset = 0 if role in UNIT_ROLES else slot * self.role_strides.get(role, self.slot_stride)
        return self.registers[role] - self.address_base + offset

    def color_value(self, color: Color) -> int:
        """The raw register value of a colour."""
        try:
            return self.colors[color]
        except KeyError:
            raise ConfigError(f"profile {self.name} has no colour {color.value}") from None

    def mode_value(self, mode: Mode) -> int:
        """The raw register value of a mode."""
        try:
            return self.modes[mode]
        except KeyError:
            raise ConfigError(f"profile {self.name} has no mode {mode.value}") from None

    def color_of(self, value: int) -> Color | None:
        """The colour a raw value stands for, or None for a value outside the map."""
        return self._color_by_value.get(value)

    def mode_of(self, value: int) -> Mode | None:
        """The mode a raw value stands for, or None for a value outside the map."""
        return self._mode_by_value.get(value)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PtlProfile:
        """Build a profile from the documented plain-dict (YAML) format; raises ConfigError."""
        known = {
            "name",
            "description",
            "address_base",
            "registers",
            "colors",
            "modes",
            "poll",
            "qty_max",
            "counter_modulo",
            "press_turns_off",
            "slots_per_unit",
            "slot_stride",
        }
        if unknown := set(data) - known:
            raise ConfigError(f"unknown profile keys: {', '.join(sorted(unknown))}")
        try:
            name = str(data["name"])
            registers = {Role(k): _int(v, f"register {k}") for k, v in data["registers"].items()}
            colors = {Color(k): _int(v, f"colour {k}") for k, v in data["colors"].items()}
            modes = {Mode(k): _int(v, f"mode {k}") for k, v in data["modes"].items()}
            default_poll = [r.value for r in Role if r in registers and r is not Role.COLOR]
            poll = tuple(Role(r) for r in data.get("poll", default_poll))
            stride = data.get("slot_stride", 0)
            role_strides: dict[Role, int] = {}
            if isinstance(stride, Mapping):
                role_strides = {Role(k): _int(v, f"slot_stride {k}") for k, v in stride.items()}
                stride = 0
        except KeyError as exc:
            raise ConfigError(f"profile is missing {exc.args[0]!r}") from None
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"profile {data.get('name', '?')}: {exc}") from None
        return cls(
            name=name,
            description=str(data.get("description", "")),
            registers=registers,
            colors=colors,
            modes=modes,
            poll=poll,
            address_base=_int(data.get("address_base", 0), "address_base"),
            qty_max=_int(data.get("qty_max", 9999), "qty_max"),
            counter_modulo=_int(data.get("counter_modulo", 0x10000), "counter_modulo"),
            press_turns_off=bool(data.get("press_turns_off", True)),
            slots_per_unit=_int(data.get("slots_per_unit", 1), "slots_per_unit"),
            slot_stride=_int(stride, "slot_stride"),
            role_strides=role_strides,
        )

    def to_dict(self) -> dict[str, Any]:
        """The plain-dict form that ``from_dict`` reads back."""
        return {
            "name": self.name,
            "description": self.description,
            "address_base": self.address_base,
            "registers": {r.value: n for r, n in self.registers.items()},
            "colors": {c.value: v for c, v in self.colors.items()},
            "modes": {m.value: v for m, v in self.modes.items()},
            "poll": [r.value for r in self.poll],
            "qty_max": self.qty_max,
            "counter_modulo": self.counter_modulo,
            "press_turns_off": self.press_turns_off,
            "slots_per_unit": self.slots_per_unit,
            "slot_stride": (
                {r.value: self.role_strides.get(r, self.slot_stride) for r in self.registers}
                if self.role_strides
                else self.slot_stride
            ),
        }

    def _block_span(self) -> int:
        # Unit-wide registers count too, so the default stride steps over them.
        numbers = list(self.registers.values())
        return max(numbers) - min(numbers) + 1

    def _validate(self) -> None:
        problems: list[str] = []
        if missing := REQUIRED_ROLES - set(self.registers):
            problems.append("missing registers " + ", ".join(sorted(r.value for r in missing)))
        if Mode.OFF not in self.modes or Color.OFF not in self.colors:
            problems.append("colors and modes must both map 'off'")
        if len(set(self._color_by_value)) != len(self.colors):
            problems.append("two colours share a value")
        if len(set(self._mode_by_value)) != len(self.modes):
            problems.append("two modes share a value")
        if Role.ACK_COUNT not in self.poll:
            problems.append("poll must read ack_count, or presses go unseen")
        if stray := set(self.poll) - set(self.registers):
            problems.append("poll names roles without registers: " + _names(stray))
        if not 1 <= self.slots_per_unit <= 247:
            problems.append("slots_per_unit must be 1..247")
        if not 2 <= self.counter_modulo <= MAX_REGISTER + 1:
            problems.append("counter_modulo must be 2..65536")
        if not 0 < self.qty_max <= MAX_REGISTER:
            problems.append("qty_max must be 1..65535")
        if not problems:
            addresses = [
                self.address(role, slot)
                for slot in range(self.slots_per_unit)
                for role in self.registers
                if slot == 0 or role not in UNIT_ROLES
            ]
            if len(set(addresses)) != len(addresses):
                problems.append("two roles or slots share a register (check slot_stride)")
            if min(addresses) < 0 or max(addresses) > MAX_REGISTER:
                problems.append("a register falls outside 0..65535 after address_base")
        if problems:
            raise ConfigError(f"profile {self.name}: " + "; ".join(problems))


def _int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{what} must be an integer, not {value!r}")
    return value


def _names(roles: Iterable[Role]) -> str:
    return ", ".join(sorted(r.value for r in roles))


_GENERIC_COLORS = {
    "off": 0,
    "red": 1,
    "green": 2,
    "blue": 3,
    "yellow": 4,
    "magenta": 5,
    "cyan": 6,
    "white": 7,
}
_GENERIC_MODES = {"off": 0, "steady": 1, "flash_slow": 2, "flash_fast": 3}

#: The reference map (devices.md A.4) plus two extension registers: short_count (4) for the
#: short-pick key and boot_id (5) so a power-cycled unit is re-baselined, not miscounted.
GENERIC_PTL_V1 = PtlProfile.from_dict(
    {
        "name": "generic-ptl-v1",
        "description": "Project map (reference A.4) with short-pick and restart extensions",
        "address_base": 0,
        "registers": {
            "color": 0,
            "mode": 1,
            "qty": 2,
            "ack_count": 3,
            "short_count": 4,
            "boot_id": 5,
        },
        "colors": _GENERIC_COLORS,
        "modes": _GENERIC_MODES,
        "poll": ["mode", "qty", "ack_count", "short_count", "boot_id"],
    }
)

#: Exactly the four registers of reference A.4: poll is FC03 0..3, as in the golden frames.
GENERIC_PTL_V1_BASIC = PtlProfile.from_dict(
    {
        "name": "generic-ptl-v1-basic",
        "description": "Reference A.4 map only: no short-pick key, no restart detection",
        "address_base": 0,
        "registers": {"color": 0, "mode": 1, "qty": 2, "ack_count": 3},
        "colors": _GENERIC_COLORS,
        "modes": _GENERIC_MODES,
        "poll": ["color", "mode", "qty", "ack_count"],
    }
)

BUILTIN_PROFILES: dict[str, PtlProfile] = {
    p.name: p for p in (GENERIC_PTL_V1, GENERIC_PTL_V1_BASIC)
}


def load_profile(spec: str | Mapping[str, Any] | PtlProfile | None) -> PtlProfile:
    """A profile from a built-in name, a plain dict, or a profile; None means generic-ptl-v1."""
    if spec is None:
        return GENERIC_PTL_V1
    if isinstance(spec, PtlProfile):
        return spec
    if isinstance(spec, str):
        try:
            return BUILTIN_PROFILES[spec]
        except KeyError:
            known = ", ".join(sorted(BUILTIN_PROFILES))
            raise ConfigError(f"unknown profile {spec!r} (built in: {known})") from None
    return PtlProfile.from_dict(spec)
