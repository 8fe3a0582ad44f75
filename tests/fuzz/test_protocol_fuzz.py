"""Property fuzzing of everything that reads bytes from outside: AMI framing and translation, FastAGI
replies and request headers, the hotline YAML. Budgets are bounded (max_examples) so `make test` stays fast;
`HYPOTHESIS_PROFILE=long` raises them (tests/fuzz/conftest.py)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callcenter.ami.events import TranslationError, translate
from callcenter.ami.framing import AmiFramer, AmiMessage
from callcenter.config.loader import ConfigError, parse_plan
from callcenter.live.model import LiveModel
from callcenter.settings import PROJECT_ROOT
from ivr.agi.protocol import AgiProtocolError, ReplyParser, is_hangup_line, parse_request

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)

EVENT_NAMES = [
    "Newchannel",
    "Newstate",
    "NewCallerid",
    "Newexten",
    "VarSet",
    "Hangup",
    "DialBegin",
    "DialEnd",
    "BridgeEnter",
    "BridgeLeave",
    "QueueCallerJoin",
    "QueueCallerLeave",
    "QueueCallerAbandon",
    "AgentCalled",
    "AgentRingNoAnswer",
    "AgentConnect",
    "AgentComplete",
    "AgentDump",
    "QueueMemberAdded",
    "QueueMemberStatus",
    "QueueParams",
    "QueueEntry",
    "CoreShowChannel",
    "FullyBooted",
]
KEYS = [
    "Channel",
    "Uniqueid",
    "Linkedid",
    "CallerIDNum",
    "CallerIDName",
    "Exten",
    "Context",
    "Timestamp",
    "Queue",
    "Position",
    "HoldTime",
    "TalkTime",
    "RingTime",
    "MemberName",
    "Interface",
    "StateInterface",
    "Variable",
    "Value",
    "Cause",
    "BridgeUniqueid",
    "DestChannel",
    "DestUniqueid",
    "DestLinkedid",
    "DialStatus",
    "Status",
    "Paused",
    "Penalty",
    "CallsTaken",
    "ChannelState",
    "Reason",
    "Count",
]
values = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", "0", "-1", "1.5", "abc", "9" * 30, "NaN", "1795443366.000001", "PJSIP/1001-0001"]),
    st.from_regex(r"\d{1,12}(\.\d{1,6})?", fullmatch=True),
)
pairs = st.lists(st.tuples(st.sampled_from(KEYS), values), max_size=14)
messages = st.builds(lambda name, body: [("Event", name), *body], st.sampled_from(EVENT_NAMES), pairs)


def _wire(message: list[tuple[str, str]]) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in message).encode() + b"\r\n"


@FUZZ
@given(chunks=st.lists(st.binary(max_size=200), max_size=12))
def test_the_framer_never_raises_on_any_bytes(chunks: list[bytes]) -> None:
    framer = AmiFramer()
    for chunk in chunks:
        for msg in framer.feed(chunk):
            assert isinstance(msg, AmiMessage)
    framer.flush()


@FUZZ
@given(batch=st.lists(messages, min_size=1, max_size=8), cuts=st.lists(st.integers(0, 4000), max_size=6))
def test_framing_is_independent_of_how_the_stream_is_cut(
    batch: list[list[tuple[str, str]]], cuts: list[int]
) -> None:
    stream = b"".join(_wire([(k, v.replace("\r", " ").replace("\n", " ")) for k, v in m]) for m in batch)
    whole = [m.pairs for m in AmiFramer().feed(stream)]
    framer = AmiFramer()
    pieces, start = [], 0
    for cut in sorted(c % (len(stream) + 1) for c in cuts):
        pieces.append(stream[start:cut])
        start = cut
    pieces.append(stream[start:])
    cut_up = [m.pairs for piece in pieces for m in framer.feed(piece)]
    assert cut_up == whole


@FUZZ
@given(batch=st.lists(messages, min_size=1, max_size=20))
def test_translator_and_live_model_never_raise_on_any_event(batch: list[list[tuple[str, str]]]) -> None:
    model = LiveModel()
    for pairs_ in batch:
        try:
            event = translate(AmiMessage(pairs_))
        except TranslationError:
            continue  # malformed: the feed logs and drops it
        if event is not None:
            model.apply(event, received_at=1.0)
    model.sweep(1e12, max_idle=1)
    assert model.calls() == []


agi_lines = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda code, sep, rest: f"{code}{sep}{rest}",
        st.sampled_from(["100", "200", "510", "511", "520", "999", "20", "abc"]),
        st.sampled_from([" ", "-", "", "  "]),
        st.one_of(
            st.text(max_size=40),
            st.from_regex(r"result=-?\d{1,4}( \([^)]{0,10}\))?( endpos=\d{1,6})?", fullmatch=True),
        ),
    ),
)


@FUZZ
@given(lines=st.lists(agi_lines, max_size=10))
def test_fastagi_reply_parser_returns_a_reply_or_a_protocol_error(lines: list[str]) -> None:
    parser = ReplyParser()
    for line in lines:
        if is_hangup_line(line):
            continue
        try:
            parser.feed(line)
        except AgiProtocolError:
            parser = ReplyParser()


@FUZZ
@given(lines=st.lists(st.text(max_size=60), max_size=20))
def test_fastagi_request_header_never_raises_anything_but_a_protocol_error(lines: list[str]) -> None:
    with contextlib.suppress(AgiProtocolError):
        parse_request(lines)


EXAMPLE = (PROJECT_ROOT / "config" / "hotline.yaml").read_text(encoding="utf-8")
EXAMPLE_LINES = EXAMPLE.splitlines(keepends=True)


@st.composite
def mangled_yaml(draw: st.DrawFn) -> str:
    """The real example with a few lines deleted, duplicated, swapped or overwritten with junk."""
    lines = list(EXAMPLE_LINES)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["delete", "dup", "junk", "indent", "truncate", "value"]))
        if how == "delete":
            del lines[i]
        elif how == "dup":
            lines.insert(i, lines[i])
        elif how == "junk":
            lines[i] = draw(st.text(max_size=40)) + "\n"
        elif how == "indent":
            lines[i] = " " * draw(st.integers(1, 5)) + lines[i]
        elif how == "truncate":
            lines[i] = lines[i][: draw(st.integers(0, max(0, len(lines[i]) - 1)))] + "\n"
        else:
            key = lines[i].split(":", 1)[0]
            lines[i] = (
                f"{key}: {draw(st.sampled_from(['', '[', '{', '-1', 'yes', '~', '&a', '*a', '!!int x']))}\n"
            )
        if not lines:
            break
    return "".join(lines)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(text=st.one_of(mangled_yaml(), st.text(max_size=300)))
def test_the_yaml_loader_raises_only_config_errors(text: str) -> None:
    with contextlib.suppress(ConfigError):
        parse_plan(text, "fuzz.yaml")


@pytest.mark.parametrize("text", ["", "---", "[]", "hotline: !!python/object:os.system x", "a: *b", "\x00"])
def test_the_yaml_loader_on_known_nasties(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_plan(text, "fuzz.yaml")
