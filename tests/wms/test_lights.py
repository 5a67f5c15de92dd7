"""Which lights should be on: the pure rules of wms.lights."""

from __future__ import annotations

import re

import pytest

from wms.lights import (
    COMPLETE_COLOR,
    COMPLETE_MODE,
    DISPLAY_MAX,
    PICK_COLOR,
    PICK_MODE,
    Button,
    LightMode,
    LightSignal,
    LightZone,
    OpenPick,
    PendingPut,
    ToteDone,
    WallNeed,
    complete_tag,
    full_orders,
    light_changes,
    pick_tag,
    press_client_id,
    read_tag,
    slot_for_item,
    wall_lights,
    wanted_lights,
)

ZONE = LightZone("P", frozenset({"P-01", "P-02", "P-03"}), order_complete="P-DONE")


def test_each_open_pick_lights_its_location_with_its_quantity_and_task_tag() -> None:
    picks = [OpenPick(11, "P-01", 3, 1), OpenPick(12, "P-03", 1, 2)]
    assert wanted_lights(ZONE, picks) == {
        "P-01": LightSignal(PICK_COLOR, PICK_MODE, 3, "pick:11"),
        "P-03": LightSignal(PICK_COLOR, PICK_MODE, 1, "pick:12"),
    }


def test_two_picks_at_one_location_show_the_first_in_route_order() -> None:
    picks = [OpenPick(21, "P-02", 5, 7), OpenPick(20, "P-02", 2, 3)]
    lights = wanted_lights(ZONE, picks)
    assert lights["P-02"].tag == "pick:20" and lights["P-02"].qty == 2


def test_picks_outside_the_zone_and_finished_picks_stay_dark() -> None:
    picks = [OpenPick(1, "A-01-01-1", 2, 1), OpenPick(2, "P-01", 0, 2)]
    assert wanted_lights(ZONE, picks) == {}


def test_quantities_beyond_the_display_show_its_maximum() -> None:
    assert wanted_lights(ZONE, [OpenPick(5, "P-01", 12345, 1)])["P-01"].qty == DISPLAY_MAX


def test_a_finished_tote_flashes_the_order_complete_light_with_its_units() -> None:
    lights = wanted_lights(ZONE, [], ToteDone(batch_id=42, units=7))
    assert lights == {"P-DONE": LightSignal(COMPLETE_COLOR, COMPLETE_MODE, 7, "complete:42")}


def test_a_zone_without_an_order_complete_light_ignores_the_finished_tote() -> None:
    zone = LightZone("P", frozenset({"P-01"}))
    assert wanted_lights(zone, [], ToteDone(42, 7)) == {}


def test_changes_send_only_what_differs_and_turn_off_what_is_no_longer_wanted() -> None:
    a = LightSignal(PICK_COLOR, PICK_MODE, 3, "pick:1")
    b = LightSignal(PICK_COLOR, PICK_MODE, 1, "pick:2")
    b2 = LightSignal(PICK_COLOR, PICK_MODE, 1, "pick:3")  # same look, another pick: resend
    shown = {"P-01": a, "P-02": b}
    assert light_changes(shown, {"P-01": a, "P-02": b2, "P-03": b}) == {"P-02": b2, "P-03": b}
    assert light_changes(shown, {}) == {"P-01": None, "P-02": None}
    assert light_changes(shown, shown) == {}


def test_tags_read_back_into_what_a_press_answers() -> None:
    assert read_tag(pick_tag(8812)) == ("pick", 8812)
    assert read_tag(complete_tag(3)) == ("complete", 3)
    for tag in (None, "", "pick:", "task-1", "pick:1x"):
        assert read_tag(tag) is None


def test_press_ids_are_stable_per_press_and_fit_the_scan_log() -> None:
    one = press_client_id("ptl-zone-p", "pick:8812", Button.CONFIRM, 5)
    assert one == press_client_id("ptl-zone-p", "pick:8812", Button.CONFIRM, 5)
    others = {
        press_client_id("ptl-zone-p", "pick:8812", Button.CONFIRM, 6),
        press_client_id("ptl-zone-p", "pick:8812", Button.SHORT, 5),
        press_client_id("ptl-zone-p", "pick:8813", Button.CONFIRM, 5),  # counter reset by power
        press_client_id("ptl-zone-q", "pick:8812", Button.CONFIRM, 5),
    }
    assert one not in others and len(others) == 4


@pytest.mark.parametrize("device", ["p", "a" * 40, "ptl_bus-1"])
def test_press_ids_match_the_scan_log_format(device: str) -> None:
    client_id = press_client_id(device, "pick:123456789012", Button.SHORT, 65535)
    assert re.match(r"^[A-Za-z0-9_.:-]{8,64}$", client_id), client_id


# --------------------------------------------------------------------------- put walls

SLOTS = ["W-01", "W-02", "W-03"]


def test_an_item_goes_to_the_first_slot_still_waiting_for_it() -> None:
    needs = [WallNeed(7, 3, 100, 1, 0), WallNeed(5, 2, 100, 2, 2), WallNeed(6, 1, 200, 1, 0)]
    assert slot_for_item(needs, 100) == needs[0]  # slot 2 has all it needs
    assert slot_for_item(needs, 300) is None


def test_an_order_is_full_when_every_picked_unit_is_put() -> None:
    needs = [
        WallNeed(1, 1, 100, 2, 2),
        WallNeed(1, 1, 200, 1, 1),
        WallNeed(2, 2, 100, 1, 0),
        WallNeed(3, 3, 300, 0, 0),  # nothing picked (short): not full, nothing to take out
    ]
    assert full_orders(needs) == {1: 3}


def test_the_wall_lights_pending_puts_steady_and_full_orders_flashing() -> None:
    needs = [WallNeed(1, 1, 100, 2, 2), WallNeed(2, 2, 100, 1, 0), WallNeed(3, 3, 100, 1, 1)]
    lights = wall_lights(SLOTS, needs, {"W-02": PendingPut(2, 100, 1, ref=9)}, cleared=[3])
    assert lights == {
        "W-01": LightSignal(PICK_COLOR, LightMode.FLASH_FAST, 2, "full:1"),
        "W-02": LightSignal(PICK_COLOR, PICK_MODE, 1, "put:9"),
    }
    assert read_tag("put:9") == ("put", 9) and read_tag("full:1") == ("full", 1)
