"""Replay: the real cacofonisk traces (JSON) and raw wire captures."""

from __future__ import annotations

import io
import json
from collections import OrderedDict
from pathlib import Path

import pytest

from callcenter.replay import main, replay

# MIT-licensed real traces, kept in the repository (tests/fixtures/ami/README.md)
CACOFONISK = Path(__file__).parents[1] / "fixtures" / "ami" / "cacofonisk"
TRACES = sorted(CACOFONISK.glob("*/*.json"))


def outside_calls(path: Path) -> list[str]:
    """Linkedids of calls placed by an outside caller or a phone: a root channel (Uniqueid == Linkedid)."""
    roots: OrderedDict[str, None] = OrderedDict()
    for event in json.loads(path.read_text()):
        if event.get("Event") == "Newchannel" and event.get("Uniqueid") == event.get("Linkedid"):
            roots[event["Linkedid"]] = None
    return list(roots)


@pytest.mark.parametrize("path", TRACES, ids=[str(p.relative_to(CACOFONISK)) for p in TRACES])
def test_every_trace_replays_one_record_per_call(path: Path) -> None:
    errors: list[str] = []
    rows = replay(path, "json", report=errors.append)
    assert errors == []
    assert sorted(r["linkedid"] for r in rows) == sorted(outside_calls(path))  # type: ignore[type-var]
    for row in rows:
        assert row["incomplete"] is False
        assert row["disposition"] in {"answered", "abandoned", "unanswered"}
        # no Timestamp headers in these traces: no times, never invented
        assert row["arrived_at"] is None and row["ended_at"] is None and row["talk_seconds"] is None


def one(name: str) -> dict[str, object]:
    [row] = replay(CACOFONISK / name, "json")
    return row


def test_ab_success_a_hangup() -> None:
    row = one("simple/ab_success_a_hangup.json")
    # the caller ID is rewritten to extension 201 by NewCallerid: the real number stays
    assert row["caller_number"] == "150010001"
    assert row["dialled_number"] == "202"
    assert row["agent"] == "SIP/150010002"
    assert row["disposition"] == "answered"
    assert row["hangup_cause"] == 16


def test_ab_a_cancel() -> None:
    row = one("simple/ab_a_cancel.json")
    assert (row["caller_number"], row["dialled_number"]) == ("150010001", "202")
    assert row["agent"] is None
    assert row["disposition"] == "abandoned"


def test_ab_reject() -> None:
    row = one("simple/ab_reject.json")
    assert (row["caller_number"], row["dialled_number"]) == ("150010001", "202")
    assert row["agent"] is None
    assert row["disposition"] == "unanswered"
    assert row["hangup_cause"] == 17


def test_queue_simple() -> None:
    row = one("queue/queue_simple.json")
    assert (row["caller_number"], row["dialled_number"]) == ("+31150010001", "+31150010004")
    assert row["agent"] == "SIP/150010002"
    assert row["disposition"] == "answered"
    assert row["hangup_cause"] == 16  # the caller's; the losing leg ended with 19
    events = json.loads((CACOFONISK / "queue/queue_simple.json").read_text())
    assert any(e.get("Event") == "Hangup" and e.get("Cause") == "19" for e in events)


def test_queue_a_cancel() -> None:
    row = one("queue/queue_a_cancel.json")
    assert (row["caller_number"], row["dialled_number"]) == ("+31150010001", "+31150010004")
    assert row["queue"] == "670100-540100"
    assert row["wait_seconds"] == 11
    assert row["disposition"] == "abandoned"
    assert row["agent"] is None


def test_main_prints_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(CACOFONISK / "simple/ab_success_a_hangup.json"), "--format", "json"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line)["agent"] == "SIP/150010002"


RAW = (
    "Asterisk Call Manager/11.0.0\r\n"
    "Response: Success\r\nMessage: Authentication accepted\r\n\r\n"
    "Event: Newchannel\r\nTimestamp: 1760000000.000000\r\nChannel: PJSIP/trunk-1\r\nChannelState: 4\r\n"
    "CallerIDNum: 13800138000\r\nCallerIDName: 共青团\r\nExten: 12355\r\nContext: hotline-inbound\r\n"
    "Uniqueid: 1760000000.1\r\nLinkedid: 1760000000.1\r\n\r\n"
    "Event: VarSet\r\nTimestamp: 1760000003.000000\r\nChannel: PJSIP/trunk-1\r\nUniqueid: 1760000000.1\r\n"
    "Linkedid: 1760000000.1\r\nVariable: HOTLINE_MENU_PATH\r\nValue: 1-t-t-t\r\n\r\n"
    "Event: Hangup\r\nTimestamp: 1760000004.000000\r\nChannel: PJSIP/trunk-9\r\nUniqueid: 1760000009.9\r\n"
    "Linkedid: 1760000009.9\r\nCause: banana\r\n\r\n"
    "Event: Hangup\r\nthis line is garbage\r\nTimestamp: 1760000005.500000\r\nChannel: PJSIP/trunk-1\r\n"
    "Uniqueid: 1760000000.1\r\nLinkedid: 1760000000.1\r\nCause: 16\r\n\r\n"
    "Event: Newchannel\r\nTimestamp: 1760000006.000000\r\nChannel: PJSIP/trunk-2\r\nCallerIDNum: 139\r\n"
    "Exten: 12355\r\nUniqueid: 1760000006.2\r\nLinkedid: 1760000006.2\r\n\r\n"
)


def test_raw_capture(tmp_path: Path) -> None:
    path = tmp_path / "capture.ami"
    path.write_bytes(RAW.encode())
    errors: list[str] = []
    first, second = replay(path, "raw", report=errors.append)
    assert first["caller_number"] == "13800138000"
    assert first["menu_path"] == "1-t-t-t"
    assert first["disposition"] == "ivr-hangup"
    assert first["arrived_at"] == "2025-10-09T08:53:20+00:00"
    assert first["ended_at"] == "2025-10-09T08:53:25.500000+00:00"
    assert first["incomplete"] is False
    assert second["linkedid"] == "1760000006.2"
    assert second["disposition"] is None and second["incomplete"] is True
    assert len(errors) == 2
    assert errors[0].startswith(f"{path}:24: Hangup: Cause is not a number")
    assert errors[1].startswith(f"{path}:31: line without ':'")


def test_main_reports_malformed_frames_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "capture.ami"
    path.write_bytes(RAW.replace("\r\n", "\n").encode())
    out = io.StringIO()
    assert main([str(path), "--format", "raw"], stdout=out) == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert "共青团" not in lines[0]  # caller name is not part of the replay row
    assert json.loads(lines[0])["caller_number"] == "13800138000"
    err = capsys.readouterr().err
    assert f"{path}:24:" in err and f"{path}:31:" in err


def test_json_capture_with_bad_items(tmp_path: Path) -> None:
    path = tmp_path / "capture.json"
    path.write_text(
        json.dumps(
            [
                "not an object",
                {
                    "Event": "Newchannel",
                    "Channel": "SIP/a-1",
                    "Uniqueid": "1.1",
                    "Linkedid": "1.1",
                    "CallerIDNum": "1",
                },
                {"Event": "Hangup", "Channel": "SIP/a-1", "Uniqueid": "1.1", "Linkedid": "1.1"},
                {
                    "Event": "Hangup",
                    "Channel": "SIP/a-1",
                    "Uniqueid": "1.1",
                    "Linkedid": "1.1",
                    "Cause": "16",
                },
            ]
        )
    )
    errors: list[str] = []
    [row] = replay(path, "json", report=errors.append)
    assert row["disposition"] == "unanswered" and row["hangup_cause"] == 16
    assert [e.split(": ")[0] for e in errors] == [f"{path}:1", f"{path}:3"]


def test_every_real_trace_is_in_the_repository() -> None:
    # an empty glob would parametrize nothing and pass silently
    assert len(TRACES) == 51
