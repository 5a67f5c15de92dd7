"""``~HS`` parsing against field positions exactly as Zebra's guide gives them (reference C.5)."""

from __future__ import annotations

import pytest

from devices.printer.codec import (
    HostStatus,
    HostStatusError,
    PrinterState,
    PrinterStatus,
    PrintMode,
    encode_host_status,
    parse_host_status,
    reply_complete,
)


def reply(first: str, second: str, third: str = "1234,0") -> bytes:
    return b"".join(b"\x02" + s.encode() + b"\x03\r\n" for s in (first, second, third))


READY_1 = "030,0,0,1218,000,0,0,0,000,0,0,0"
READY_2 = "001,0,0,0,0,2,6,0,00000000,1,000"


def test_every_field_of_string_one_in_its_place() -> None:
    # aaa,b,c,dddd,eee,f,g,h,iii,j,k,l
    status = parse_host_status(reply("145,1,0,0812,003,1,0,1,000,1,0,1", READY_2))
    assert status.communication_settings == 145
    assert status.paper_out is True
    assert status.paused is False
    assert status.label_length_dots == 812
    assert status.formats_in_buffer == 3
    assert status.buffer_full is True
    assert status.diagnostic_mode is False
    assert status.partial_format is True
    assert status.corrupt_ram is True
    assert status.under_temperature is False
    assert status.over_temperature is True


def test_every_field_of_string_two_in_its_place() -> None:
    # mmm,n,o,p,q,r,s,t,uuuuuuuu,v,www; n is unused and must not be read as "head open"
    status = parse_host_status(reply(READY_1, "001,1,0,1,1,3,6,1,00000042,1,007", "0000,1"))
    assert status.function_settings == 1
    assert status.head_open is False
    assert status.ribbon_out is True
    assert status.thermal_transfer is True
    assert status.print_mode is PrintMode.CUTTER
    assert status.print_width_mode == 6
    assert status.label_waiting is True
    assert status.labels_remaining == 42
    assert status.format_while_printing is True
    assert status.graphics_stored == 7
    assert status.password == "0000"
    assert status.static_ram is True


def test_head_open_is_field_o() -> None:
    assert parse_host_status(reply(READY_1, "001,0,1,0,0,2,6,0,00000000,1,000")).head_open


@pytest.mark.parametrize(
    ("first", "second", "state"),
    [
        (READY_1, READY_2, PrinterState.READY),
        ("030,1,0,1218,000,0,0,0,000,0,0,0", READY_2, PrinterState.PAPER_OUT),
        ("030,0,1,1218,000,0,0,0,000,0,0,0", READY_2, PrinterState.PAUSED),
        ("030,0,0,1218,000,1,0,0,000,0,0,0", READY_2, PrinterState.BUFFER_FULL),
        ("030,0,0,1218,000,0,0,0,000,1,0,0", READY_2, PrinterState.RAM_ERROR),
        ("030,0,0,1218,000,0,0,0,000,0,1,0", READY_2, PrinterState.TEMPERATURE),
        ("030,0,0,1218,000,0,0,0,000,0,0,1", READY_2, PrinterState.TEMPERATURE),
        (READY_1, "001,0,1,0,0,2,6,0,00000000,1,000", PrinterState.HEAD_OPEN),
        (READY_1, "001,0,0,1,0,2,6,0,00000000,1,000", PrinterState.RIBBON_OUT),
        # fields that are no fault: diagnostic mode, partial format, label waiting, unused n
        (
            "030,0,0,1218,005,0,1,1,000,0,0,0",
            "001,1,0,0,1,1,6,1,00000099,1,003",
            PrinterState.READY,
        ),
    ],
)
def test_state_of_each_flag(first: str, second: str, state: PrinterState) -> None:
    status = PrinterStatus.from_reply(reply(first, second))
    assert status.state is state
    assert status.can_print is (state is PrinterState.READY)


def test_the_worst_problem_is_the_state_and_all_are_listed() -> None:
    status = PrinterStatus.from_reply(
        reply("030,1,1,1218,000,0,0,0,000,0,0,0", "001,0,1,0,0,2,6,0,00000000,1,000")
    )
    assert status.state is PrinterState.HEAD_OPEN
    assert status.problems == (PrinterState.HEAD_OPEN, PrinterState.PAPER_OUT, PrinterState.PAUSED)
    assert status.message == "Print head open"


def test_silence_and_half_replies_are_the_no_reply_error_state() -> None:
    assert PrinterStatus.from_reply(b"").state is PrinterState.NO_REPLY
    half = reply(READY_1, READY_2)[:40]
    status = PrinterStatus.from_reply(half)
    assert status.state is PrinterState.NO_REPLY and not status.can_print
    assert "incomplete" in status.detail


@pytest.mark.parametrize(
    "bad",
    [
        reply("030,0,0,1218,000,0,0,0,000,0,0", READY_2),  # 11 fields
        reply(READY_1, "001,0,0,0,0,2,6,0,00000000,1"),  # 10 fields
        reply(READY_1, READY_2, "1234"),
        reply("030,2,0,1218,000,0,0,0,000,0,0,0", READY_2),  # flag 2
        reply("03x,0,0,1218,000,0,0,0,000,0,0,0", READY_2),
        b"\x02\xff\x03\x02a\x03\x02b\x03",
        b"\x03\x03\x03",
    ],
)
def test_malformed_replies_are_refused(bad: bytes) -> None:
    with pytest.raises(HostStatusError):
        parse_host_status(bad)
    if reply_complete(bad):
        assert PrinterStatus.from_reply(bad).state is PrinterState.BAD_REPLY


def test_noise_before_the_first_string_is_ignored() -> None:
    assert parse_host_status(b"\r\n" + reply(READY_1, READY_2)) == HostStatus()


@pytest.mark.parametrize(
    "status",
    [
        HostStatus(),
        HostStatus(paper_out=True, paused=True, labels_remaining=12345678),
        HostStatus(head_open=True, ribbon_out=True, print_mode=PrintMode.APPLICATOR),
        HostStatus(corrupt_ram=True, over_temperature=True, formats_in_buffer=999),
    ],
)
def test_encode_and_parse_agree(status: HostStatus) -> None:
    assert parse_host_status(encode_host_status(status)) == status


def test_encoded_ready_status_is_the_documented_strings() -> None:
    assert encode_host_status(HostStatus()) == reply(READY_1, READY_2)


def test_unknown_print_mode_is_kept_as_unknown() -> None:
    status = parse_host_status(reply(READY_1, "001,0,0,0,0,Z,6,0,00000000,1,000"))
    assert status.print_mode is PrintMode.UNKNOWN
