"""The translator's channel snapshots: read lazily from the message, but the same value as ever."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from pathlib import Path

import mypy.api
import pytest

from callcenter.ami import events
from callcenter.ami.events import AgentCalled, ChannelSnapshot, Newchannel, TranslationError, translate
from callcenter.ami.framing import AmiFramer, AmiMessage

CALLER = [
    ("Channel", "PJSIP/trunk-00000001"),
    ("ChannelState", "4"),
    ("ChannelStateDesc", "Ring"),
    ("CallerIDNum", "13800138000"),
    ("CallerIDName", "共青团用户"),
    ("ConnectedLineNum", "<unknown>"),
    ("ConnectedLineName", "<unknown>"),
    ("Language", "zh"),
    ("AccountCode", "youth"),
    ("Context", "hotline-inbound"),
    ("Exten", "12355"),
    ("Priority", "3"),
    ("Uniqueid", "1760000000.1"),
    ("Linkedid", "1760000000.1"),
]
EXPECTED = ChannelSnapshot(
    channel="PJSIP/trunk-00000001",
    uniqueid="1760000000.1",
    linkedid="1760000000.1",
    state=4,
    caller_id_num="13800138000",
    caller_id_name="共青团用户",
    connected_line_num="<unknown>",
    connected_line_name="<unknown>",
    context="hotline-inbound",
    exten="12355",
    priority=3,
    language="zh",
    account_code="youth",
)


def _wire(pairs: list[tuple[str, str]]) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in pairs).encode() + b"\r\n"


def test_snapshot_from_the_wire_equals_the_spelled_out_one() -> None:
    [msg] = AmiFramer().feed(_wire([("Event", "Newchannel"), ("Timestamp", "1760000000.5"), *CALLER]))
    event = translate(msg)
    assert isinstance(event, Newchannel)
    assert event.channel == EXPECTED and hash(event.channel) == hash(EXPECTED)
    assert repr(event.channel) == repr(EXPECTED)
    assert event.channel.device == "PJSIP/trunk"
    assert copy.deepcopy(event) == event and pickle.loads(pickle.dumps(event)) == event


def test_dest_leg_and_missing_fields() -> None:
    dest = [("Dest" + k, v) for k, v in CALLER if k not in ("CallerIDName", "Priority")]
    msg = AmiMessage([("Event", "AgentCalled"), *CALLER, *dest, ("Queue", "q"), ("Interface", "PJSIP/1001")])
    event = translate(msg)
    assert isinstance(event, AgentCalled) and event.dest is not None
    assert event.dest.caller_id_name == "" and event.dest.priority is None
    assert event.dest.exten == "12355" and event.dest.uniqueid == "1760000000.1"


def test_no_field_of_an_event_or_snapshot_can_be_assigned_in_typed_code(tmp_path: Path) -> None:
    # events are frozen to the type checker, not at run time (events._event): mypy, strict and part of
    # make test, is what keeps every listener from changing an event the others will read
    event_classes = [
        cls
        for name in events.__all__
        if isinstance(cls := getattr(events, name), type) and dataclasses.is_dataclass(cls)
    ]
    assert len(event_classes) > 25
    lines = ["from callcenter.ami import events", "def mutate(snap: events.ChannelSnapshot) -> None:"]
    expected: list[str] = []
    for cls in event_classes:
        lines.append(f"    def _{cls.__name__}(e: events.{cls.__name__}) -> None:")
        for field in dataclasses.fields(cls):
            lines.append(f"        e.{field.name} = e.{field.name}")
            expected.append(f"{cls.__name__}.{field.name}")
    for name in ["uniqueid", "linkedid", "_v", "_p", *events._SNAPSHOT_FIELDS[3:]]:
        lines.append(f"    snap.{name} = snap.{name}")
        expected.append(f"ChannelSnapshot.{name}")
    snippet = tmp_path / "mutate.py"
    snippet.write_text("\n".join(lines) + "\n")
    root = Path(__file__).resolve().parents[2]
    out, err, _ = mypy.api.run([str(snippet), "--config-file", str(root / "pyproject.toml")])
    refused = {int(line.split(":")[1]) for line in out.splitlines() if ": error:" in line}
    assignments = [i for i, line in enumerate(lines, 1) if " = " in line]
    assert len(assignments) == len(expected)
    allowed = [what for what, i in zip(expected, assignments, strict=True) if i not in refused]
    assert allowed == [], (allowed, out, err)


def test_events_and_snapshots_are_still_hashable_values() -> None:
    a = translate(AmiMessage([("Event", "Newchannel"), *CALLER]))
    b = translate(AmiMessage([("Event", "Newchannel"), *reversed(CALLER)]))
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert isinstance(a, Newchannel) and {a.channel, EXPECTED} == {EXPECTED}


@pytest.mark.parametrize("key", ["ChannelState", "Priority"])
def test_garbled_channel_number_is_a_translation_error_when_translated(key: str) -> None:
    pairs = [(k, "x1" if k == key else v) for k, v in CALLER]
    with pytest.raises(TranslationError) as info:
        translate(AmiMessage([("Event", "Newchannel"), *pairs]))
    assert info.value.event == "Newchannel" and (key, "x1") in info.value.headers


def test_signed_channel_numbers_still_read() -> None:
    pairs = [(k, "-1" if k == "ChannelState" else " 7" if k == "Priority" else v) for k, v in CALLER]
    event = translate(AmiMessage([("Event", "Newchannel"), *pairs]))
    assert isinstance(event, Newchannel)
    assert event.channel.state == -1 and event.channel.priority == 7
