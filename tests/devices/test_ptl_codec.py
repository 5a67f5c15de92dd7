"""The pick-to-light codec, byte for byte against the reference's golden frames (devices.md A.4)."""

from __future__ import annotations

import pytest

from devices.errors import ConfigError
from devices.ptl.codec import (
    Button,
    Counters,
    CrcError,
    ExceptionReply,
    FrameError,
    LightAddress,
    LightState,
    Press,
    RegisterRead,
    RegisterWrite,
    coalesce,
    crc16,
    decode_reading,
    decode_reply,
    expected_reply_length,
    frame,
    plan_poll,
    plan_sync_read,
    plan_writes,
    presses_since,
    reply_complete,
    unframe,
)
from devices.ptl.profile import (
    GENERIC_PTL_V1,
    GENERIC_PTL_V1_BASIC,
    Color,
    Mode,
    PtlProfile,
    Role,
    load_profile,
)

# The four frames of reference A.4, captured with pyserial spy:// against the A.5 simulator.
GOLDEN_LIGHT_TX = bytes.fromhex("01 10 00 00 00 03 06 00 02 00 02 00 03 7E 81")
GOLDEN_LIGHT_RX = bytes.fromhex("01 10 00 00 00 03 80 08")
GOLDEN_POLL_TX = bytes.fromhex("01 03 00 00 00 04 44 09")
GOLDEN_POLL_RX = bytes.fromhex("01 03 08 00 02 00 00 00 03 00 01 87 D7")


def wall_profile(slots: int = 8) -> PtlProfile:
    """A put-wall controller: one unit, many slots, each slot the generic block."""
    data = GENERIC_PTL_V1.to_dict() | {"name": "test-wall", "slots_per_unit": slots}
    data["registers"] = {k: v for k, v in data["registers"].items() if k != "boot_id"}
    data["poll"] = ["mode", "qty", "ack_count", "short_count"]
    return PtlProfile.from_dict(data)


@pytest.mark.parametrize(
    "golden",
    [GOLDEN_LIGHT_TX, GOLDEN_LIGHT_RX, GOLDEN_POLL_TX, GOLDEN_POLL_RX],
    ids=["light-tx", "light-rx", "poll-tx", "poll-rx"],
)
def test_crc_of_every_golden_frame(golden: bytes) -> None:
    assert crc16(golden[:-2]).to_bytes(2, "little") == golden[-2:]
    assert frame(golden[0], golden[1:-2]) == golden


def test_light_on_is_the_golden_fc16() -> None:
    writes = plan_writes(
        GENERIC_PTL_V1_BASIC, {LightAddress(1): LightState(Color.GREEN, Mode.FLASH_SLOW, 3)}
    )
    assert writes == [RegisterWrite(1, 0, (2, 2, 3))]
    assert writes[0].encode() == GOLDEN_LIGHT_TX
    assert expected_reply_length(GOLDEN_LIGHT_TX) == len(GOLDEN_LIGHT_RX)
    assert decode_reply(GOLDEN_LIGHT_TX, GOLDEN_LIGHT_RX) == ()


def test_poll_is_the_golden_fc03_and_the_reply_is_one_press() -> None:
    reads = plan_poll(GENERIC_PTL_V1_BASIC, 1, [0])
    assert reads == [RegisterRead(1, 0, 4)]
    assert reads[0].encode() == GOLDEN_POLL_TX
    assert expected_reply_length(GOLDEN_POLL_TX) == len(GOLDEN_POLL_RX)
    registers = decode_reply(GOLDEN_POLL_TX, GOLDEN_POLL_RX)
    assert registers == (2, 0, 3, 1)
    reading = decode_reading(GENERIC_PTL_V1_BASIC, 1, [0], [(reads[0], registers)])
    slot = reading.slots[0]
    assert (slot.color, slot.mode, slot.qty, slot.ack_count) == (Color.GREEN, Mode.OFF, 3, 1)
    assert slot.lit is False
    found, counters = presses_since(GENERIC_PTL_V1_BASIC, Counters(ack=0), slot)
    assert found == [Press(slot=0, button=Button.CONFIRM, sequence=1, quantity=3)]
    # Reading the same registers again (a repeated poll) finds nothing new.
    assert presses_since(GENERIC_PTL_V1_BASIC, counters, slot) == ([], counters)


def test_corrupted_frames_are_typed_errors() -> None:
    garbled = GOLDEN_POLL_RX[:-1] + bytes([GOLDEN_POLL_RX[-1] ^ 0xFF])
    with pytest.raises(CrcError):
        decode_reply(GOLDEN_POLL_TX, garbled)
    with pytest.raises(FrameError, match="too short"):
        unframe(b"\x01\x03")
    with pytest.raises(FrameError, match="unit 2"):
        decode_reply(GOLDEN_POLL_TX, frame(2, GOLDEN_POLL_RX[1:-2]))
    exception = frame(1, bytes([0x83, 0x04]))
    assert reply_complete(GOLDEN_POLL_TX, exception[:2]) == 5
    with pytest.raises(ExceptionReply) as info:
        decode_reply(GOLDEN_POLL_TX, exception)
    assert info.value.code == 4


def test_extended_profile_polls_mode_to_boot_id_and_reads_short_presses() -> None:
    assert plan_poll(GENERIC_PTL_V1, 5, [0]) == [RegisterRead(5, 1, 5)]
    assert plan_sync_read(GENERIC_PTL_V1, 5, [0]) == [RegisterRead(5, 0, 6)]
    read = RegisterRead(5, 1, 5)
    # mode off, qty keyed down to 2, ack unchanged, one short press, boot id 777
    reading = decode_reading(GENERIC_PTL_V1, 5, [0], [(read, (0, 2, 9, 4, 777))])
    assert reading.boot_id == 777
    found, counters = presses_since(GENERIC_PTL_V1, Counters(ack=9, short=3), reading.slots[0])
    assert found == [Press(0, Button.SHORT, 4, 2)]
    assert counters == Counters(ack=9, short=4)


def test_counters_wrap_and_several_presses_are_each_counted() -> None:
    reading = decode_reading(GENERIC_PTL_V1_BASIC, 1, [0], [(RegisterRead(1, 0, 4), (2, 0, 3, 1))])
    found, counters = presses_since(GENERIC_PTL_V1_BASIC, Counters(ack=0xFFFE), reading.slots[0])
    assert [p.sequence for p in found] == [0xFFFF, 0, 1]
    assert counters.ack == 1


def test_off_writes_colour_mode_and_quantity_zero() -> None:
    assert plan_writes(GENERIC_PTL_V1, {LightAddress(3): None}) == [RegisterWrite(3, 0, (0, 0, 0))]


def test_writes_coalesce_per_unit_into_contiguous_runs() -> None:
    wall = wall_profile(8)
    assert wall.slot_stride == 5
    on = LightState(Color.BLUE, Mode.STEADY, 1)
    # slots 0 and 1 of unit 9: registers 0-2 and 5-7 are not contiguous -> two writes
    assert plan_writes(wall, {LightAddress(9, 0): on, LightAddress(9, 1): on}) == [
        RegisterWrite(9, 0, (3, 1, 1)),
        RegisterWrite(9, 5, (3, 1, 1)),
    ]
    # a map whose slots are the light registers only: eight slots in one FC16
    dense = PtlProfile.from_dict(
        GENERIC_PTL_V1_BASIC.to_dict()
        | {
            "name": "dense",
            "registers": {"color": 0, "mode": 1, "qty": 2, "ack_count": 200},
            "poll": ["ack_count"],
            "slots_per_unit": 8,
            "slot_stride": {"color": 3, "mode": 3, "qty": 3, "ack_count": 1},
        }
    )
    writes = plan_writes(dense, {LightAddress(2, s): on for s in range(8)})
    assert writes == [RegisterWrite(2, 0, (3, 1, 1) * 8)]
    assert len(writes[0].encode()) == 9 + 2 * 24
    # and one FC03 reads the press counters of all eight slots
    assert plan_poll(dense, 2, range(8)) == [RegisterRead(2, 200, 8)]
    # a full read does not drag the 176 unused registers between the blocks along
    assert plan_sync_read(dense, 2, range(8)) == [RegisterRead(2, 0, 24), RegisterRead(2, 200, 8)]
    assert PtlProfile.from_dict(dense.to_dict()) == dense


def test_coalesce_splits_at_the_fc16_limit() -> None:
    writes = coalesce(1, dict.fromkeys(range(130), 7))
    assert [(w.address, len(w.values)) for w in writes] == [(0, 123), (123, 7)]


def test_address_base_shifts_documented_numbers_to_pdu_addresses() -> None:
    one_based = PtlProfile.from_dict(
        GENERIC_PTL_V1_BASIC.to_dict()
        | {
            "name": "one-based",
            "address_base": 1,
            "registers": {"color": 1, "mode": 2, "qty": 3, "ack_count": 4},
        }
    )
    assert one_based.address(Role.COLOR) == 0
    assert plan_poll(one_based, 1, [0])[0].encode() == GOLDEN_POLL_TX


def test_profile_round_trips_and_rejects_bad_maps() -> None:
    assert PtlProfile.from_dict(GENERIC_PTL_V1.to_dict()) == GENERIC_PTL_V1
    assert load_profile(None) is GENERIC_PTL_V1
    assert load_profile("generic-ptl-v1-basic") is GENERIC_PTL_V1_BASIC
    with pytest.raises(ConfigError, match="unknown profile"):
        load_profile("banner-pickiq")
    base = GENERIC_PTL_V1_BASIC.to_dict()
    with pytest.raises(ConfigError, match="missing registers ack_count"):
        PtlProfile.from_dict(base | {"registers": {"color": 0, "mode": 1, "qty": 2}, "poll": []})
    with pytest.raises(ConfigError, match="share a register"):
        PtlProfile.from_dict(
            base | {"registers": {"color": 0, "mode": 1, "qty": 1, "ack_count": 3}}
        )
    with pytest.raises(ConfigError, match="share a register"):
        PtlProfile.from_dict(base | {"slots_per_unit": 2, "slot_stride": 2})
    with pytest.raises(ConfigError, match="unknown profile keys"):
        PtlProfile.from_dict(base | {"baud": 19200})
    with pytest.raises(ConfigError):
        PtlProfile.from_dict(base | {"colors": {"off": 0, "ultraviolet": 9}})
    no_cyan = PtlProfile.from_dict(base | {"name": "no-cyan", "colors": {"off": 0, "red": 1}})
    with pytest.raises(ConfigError, match="no colour cyan"):
        plan_writes(no_cyan, {LightAddress(1): LightState(Color.CYAN)})
    with pytest.raises(ConfigError, match="quantity"):
        plan_writes(GENERIC_PTL_V1, {LightAddress(1): LightState(Color.RED, qty=10000)})


def test_light_address_parsing() -> None:
    assert LightAddress.parse("7") == LightAddress(7, 0)
    assert LightAddress.parse("7/3") == LightAddress(7, 3)
    assert str(LightAddress(7, 3)) == "7/3"
    with pytest.raises(ConfigError):
        LightAddress.parse("0")
    with pytest.raises(ConfigError):
        LightAddress.parse("A-01")
