"""The virtual light panel (/lights), the device health page (/devices) and their live feed.

Both pages get a snapshot on load and changes over the ``/lights`` Socket.IO namespace; the
floor-devices thread publishes through :func:`publish`, throttled there (health at most once a
second, the panel only when it changed).
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import Namespace, emit, join_room

from web.extensions import socketio
from web.floor_devices import DeviceSetupError, get_floor_devices
from web.security import roles_required
from wms.errors import WmsError
from wms.lights import Button
from wms.model import Role

blueprint = Blueprint("lights", __name__)
NAMESPACE = "/lights"
ROOM = "lights"
_PANEL_ROLES = (Role.SUPERVISOR, Role.PICKER)
_HEALTH_ROLES = (Role.SUPERVISOR,)


@blueprint.route("/lights")
@roles_required(*_PANEL_ROLES)
def lights() -> Any:
    """Each zone's and put wall's lights, live; a simulated light presses on a click."""
    devices = get_floor_devices(current_app)
    return render_template("pages/lights.html", buses=devices.panel() if devices else [])


@blueprint.route("/lights/panel")
@roles_required(*_PANEL_ROLES)
def panel() -> Any:
    """The light panel as JSON: every bus, its lights and what each shows (for simulators)."""
    devices = get_floor_devices(current_app)
    return jsonify(buses=devices.panel() if devices else [])


@blueprint.route("/lights/press", methods=["POST"])
@roles_required(*_PANEL_ROLES)
def press() -> Any:
    """Press a simulated light as a person at the rack would (JSON: device, location, button)."""
    devices = get_floor_devices(current_app)
    data = request.get_json(silent=True) or {}
    device, location = str(data.get("device", "")), str(data.get("location", ""))
    button_text = str(data.get("button", Button.CONFIRM.value))
    quantity = data.get("quantity")
    if devices is None:
        return _refuse(_("No devices are configured."), 404)
    if button_text not in Button._value2member_map_:
        return _refuse(_("Unknown button: %(button)s.", button=button_text), 422)
    if quantity is not None and (
        not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 <= quantity <= 9999
    ):
        return _refuse(_("The quantity must be a whole number from 0 to 9999."), 422)
    try:
        pressed = devices.press(device, location, Button(button_text), quantity)
    except DeviceSetupError:
        return _refuse(
            _(
                "%(location)s on %(device)s is not a simulated light.",
                location=location,
                device=device,
            ),
            404,
        )
    if not pressed:
        return _refuse(
            _("%(location)s is dark: there is nothing to confirm.", location=location), 409
        )
    return jsonify(ok=True)


@blueprint.route("/lights/wall-scan", methods=["POST"])
@roles_required(*_PANEL_ROLES)
def wall_scan() -> Any:
    """A scan typed or wedge-scanned at a put wall's screen (JSON: device, code, client_id)."""
    devices = get_floor_devices(current_app)
    data = request.get_json(silent=True) or {}
    device, code = str(data.get("device", "")), str(data.get("code", "")).strip()
    client_id = str(data.get("client_id") or f"wall-{uuid.uuid4()}")
    if devices is None:
        return _refuse(_("No devices are configured."), 404)
    if not code or len(code) > 200:
        return _refuse(_("Scan or type a code."), 422)
    try:
        answer = devices.wall_scan(device, code, client_id)
    except DeviceSetupError:
        return _refuse(_("%(device)s is not a put wall.", device=device), 404)
    except WmsError as error:  # a client id the scan log refuses
        return _refuse(error.message, 422)
    return jsonify(answer)


def _refuse(message: str, status: int) -> Any:
    return jsonify(ok=False, message=message), status


@blueprint.route("/devices")
@roles_required(*_HEALTH_ROLES)
def devices_page() -> Any:
    """Every device's state, last seen, counters and last wire frames."""
    devices = get_floor_devices(current_app)
    health = devices.health_view() if devices else []
    logs = {h["name"]: devices.wire_log(str(h["name"])) for h in health} if devices else {}
    return render_template("pages/devices.html", health=health, wire_logs=logs)


class LightsNamespace(Namespace):
    """Panels and health pages watch the lights and the devices' health here."""

    def on_connect(self, auth: Any = None) -> bool:
        """Signed-in supervisors, pickers and admins only; the snapshot goes out at once."""
        allowed = (*_PANEL_ROLES, Role.ADMIN)
        if not current_user.is_authenticated or current_user.role not in allowed:
            return False
        join_room(ROOM)
        devices = get_floor_devices(current_app)
        if devices is not None:
            emit("lights", devices.panel())
            emit("health", devices.health_view())
        return True


def publish(topic: str, data: Any) -> None:
    """Send floor-device news to every watching screen (called from the floor thread)."""
    if topic in ("lights", "health", "press", "wall"):
        socketio.emit(topic, data, namespace=NAMESPACE, to=ROOM)


def init_lights(app: Any) -> None:
    """Register the pages and the namespace."""
    app.register_blueprint(blueprint)
    socketio.on_namespace(LightsNamespace(NAMESPACE))
