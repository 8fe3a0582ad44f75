from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.ami.framing import AmiFramer, AmiMessage, iter_messages

BANNER = b"Asterisk Call Manager/11.0.0\r\n"


def frame_all(data: bytes, cuts: list[int] | None = None) -> list[AmiMessage]:
    framer = AmiFramer()
    out: list[AmiMessage] = []
    last = 0
    for cut in sorted(cuts or []):
        out += framer.feed(data[last:cut])
        last = cut
    out += framer.feed(data[last:])
    return out


def test_utf8_char_split_at_every_byte_position_arrives_whole() -> None:
    text = "共青团12355"
    data = BANNER + f"Event: Newchannel\r\nCallerIDName: {text}\r\nUniqueid: 1.1\r\n\r\n".encode()
    for cut in range(1, len(data)):
        messages = frame_all(data, [cut])
        assert len(messages) == 1, cut
        assert messages[0].get("CallerIDName") == text, cut
        assert messages[0].errors == ()


def test_every_byte_fed_alone() -> None:
    data = BANNER + "Event: X\r\nName: 乌兰巴托\r\n\r\nEvent: Y\r\n\r\n".encode()
    framer = AmiFramer()
    out: list[AmiMessage] = []
    for i in range(len(data)):
        out += framer.feed(data[i : i + 1])
    assert [m.get("Event") for m in out] == ["X", "Y"]
    assert out[0].get("Name") == "乌兰巴托"
    assert framer.version == "11.0.0"


def test_repeated_keys_kept_in_order() -> None:
    data = (
        b"Response: Success\r\nActionID: 1\r\nOutput: line one\r\nOutput: line two\r\nVariable: A=1\r\n\r\n"
    )
    [msg] = frame_all(data)
    assert msg.get_all("Output") == ["line one", "line two"]
    assert msg.get("Output") == "line one"
    assert msg.is_response and not msg.is_event
    assert msg.action_id == "1"
    assert msg.pairs[0] == ("Response", "Success")


def test_banner_alone_then_messages() -> None:
    framer = AmiFramer()
    assert framer.feed(b"Asterisk Call") == []
    assert framer.feed(b" Manager/9.0.0\r\n") == []
    assert framer.banner == "Asterisk Call Manager/9.0.0"
    [msg] = framer.feed(b"Response: Success\r\nMessage: Authentication accepted\r\n\r\n")
    assert msg.get("Message") == "Authentication accepted"


def test_no_banner() -> None:
    [msg] = frame_all(b"Event: FullyBooted\r\nPrivilege: system,all\r\n\r\n")
    assert msg.is_event and msg.name == "FullyBooted"


def test_garbage_line_is_a_framing_error_and_the_message_still_arrives(
    caplog: pytest.LogCaptureFixture,
) -> None:
    framer = AmiFramer()
    with caplog.at_level(logging.WARNING):
        [msg] = framer.feed(b"Event: Hangup\r\nthis is not a header\r\nCause: 16\r\n\r\n")
    assert msg.pairs == [("Event", "Hangup"), ("Cause", "16")]
    assert msg.errors == ("this is not a header",)
    assert framer.errors and "this is not a header" in framer.errors[0][1]
    assert "framing error" in caplog.text


def test_invalid_utf8_becomes_replacement_char(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        [msg] = frame_all(b"Event: X\r\nName: a\xffb\r\n\r\n")
    assert msg.get("Name") == "a\ufffdb"
    assert "invalid UTF-8" in caplog.text


def test_bare_lf_and_empty_values() -> None:
    data = b"Event: A\nExten: \nCallerIDNum: 1\n\nEvent: B\r\nValue:\r\n\r\n"
    a, b = frame_all(data)
    assert a.get("Exten") == ""
    assert a.get("CallerIDNum") == "1"
    assert b.get("Value") == ""


def test_value_with_colon_kept() -> None:
    [msg] = frame_all(b"Event: VarSet\r\nValue: sip:42@10.0.0.1:5060\r\n\r\n")
    assert msg.get("Value") == "sip:42@10.0.0.1:5060"


def test_old_command_body_becomes_output_lines() -> None:
    data = b"Response: Follows\r\nPrivilege: Command\r\nline 1\nline 2\n--END COMMAND--\r\n\r\n"
    [msg] = frame_all(data)
    assert msg.get_all("Output") == ["line 1", "line 2"]
    assert msg.errors == ()


def test_line_numbers_when_counting() -> None:
    data = BANNER + b"Event: A\r\nX: 1\r\n\r\nEvent: B\r\nbad\r\n\r\n"
    msgs = list(iter_messages([data], count_lines=True))
    assert [m.line for m in msgs] == [2, 5]
    assert msgs[1].errors == ("bad",)


def test_flush_delivers_last_message_without_blank_line() -> None:
    framer = AmiFramer()
    assert framer.feed(b"Event: A\r\nX: 1\r\n") == []
    [msg] = framer.flush()
    assert msg.get("X") == "1"


def _stream(messages: list[list[tuple[str, str]]], crlf: bool) -> bytes:
    eol = "\r\n" if crlf else "\n"
    body = "".join(eol.join(f"{k}: {v}" for k, v in m) + eol + eol for m in messages)
    return (BANNER.decode() + body).encode()


_key = st.text(
    alphabet=st.characters(min_codepoint=65, max_codepoint=122, categories=["Lu", "Ll"]),
    min_size=1,
    max_size=12,
)
_value = st.text(
    alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]), max_size=20
).map(lambda v: v.strip())
_message = st.lists(st.tuples(_key, _value), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(
    messages=st.lists(_message, min_size=1, max_size=5),
    crlf=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=8),
)
def test_any_split_gives_the_same_messages(
    messages: list[list[tuple[str, str]]], crlf: bool, cuts: list[int]
) -> None:
    data = _stream(messages, crlf)
    whole = frame_all(data)
    split = frame_all(data, [c % (len(data) + 1) for c in cuts])
    assert split == whole
    assert [m.pairs for m in whole] == messages


def test_endless_garbage_is_not_buffered_forever() -> None:
    framer = AmiFramer()
    for _ in range(20):
        assert framer.feed(b"x" * 100_000) == []
    assert framer.errors
    [msg] = framer.feed(b"\n\nEvent: A\r\n\r\n")[-1:]
    assert msg.name == "A"


class _GeneralPathOnly(AmiFramer):
    """The framer without its CRLF fast path: what every message must look like either way."""

    def _feed_crlf(self, buf: bytes) -> list[AmiMessage] | None:
        return None


_line = st.one_of(
    st.tuples(_key, _value).map(lambda kv: f"{kv[0]}: {kv[1]}"),  # the usual line
    st.tuples(_key, _value, _value).map(lambda kv: f"{kv[0]}: {kv[1]}: {kv[2]}"),  # ": " in the value
    st.tuples(_key, _value).map(lambda kv: f"{kv[0]}:{kv[1]}"),  # no space after the colon
    _value.filter(lambda v: ":" not in v),  # no colon at all
    st.sampled_from(["Event: A", "Event: B", "Response: Follows", "--END COMMAND--", "", "x\r"]),
)
_raw_message = st.lists(_line, min_size=1, max_size=6).map("\r\n".join)


@settings(max_examples=300, deadline=None)
@given(messages=st.lists(_raw_message, min_size=1, max_size=6), bare_lf=st.booleans())
def test_fast_path_and_general_path_agree(messages: list[str], bare_lf: bool) -> None:
    body = "\r\n\r\n".join(messages) + "\r\n\r\n"
    if bare_lf:
        body = body.replace("\r\n", "\n", 1)
    data = body.encode()
    fast, general = AmiFramer(), _GeneralPathOnly()
    got, want = fast.feed(data), general.feed(data)
    assert len(got) == len(want)
    keys = [[k for k, _ in m.pairs] + ["Event", "Nope"] for m in want]
    # lookups first (the translator's order: the fast path builds no pair list for them), then the rest
    assert [[m.get(k) for k in ks] for m, ks in zip(got, keys, strict=True)] == [
        [m.get(k) for k in ks] for m, ks in zip(want, keys, strict=True)
    ]
    assert [(m.pairs, m.errors, m.to_dict(), m.is_event) for m in got] == [
        (m.pairs, m.errors, m.to_dict(), m.is_event) for m in want
    ]
    assert fast.errors == general.errors
    assert fast.flush() == general.flush()


def test_colon_free_line_next_to_the_blank_line_is_still_an_error() -> None:
    # the colon outline of "K: v / garbage / blank / K2: w" looks like two clean one-line messages
    [a, b] = frame_all(b"Event: A\r\ngarbage\r\n\r\nEvent: B\r\nX: 1\r\n\r\n")
    assert a.pairs == [("Event", "A")] and a.errors == ("garbage",)
    assert b.to_dict() == {"Event": "B", "X": "1"}


def test_repeated_key_in_a_clean_message_first_wins() -> None:
    [msg] = frame_all(b"Event: A\r\nX: 1\r\nX: 2\r\n\r\n")
    assert msg.get("X") == "1" and msg.get_all("X") == ["1", "2"]


def test_messages_of_one_event_name_but_other_keys_are_read_by_their_own_keys() -> None:
    # key positions are shared by messages of the same shape (framing._positions): a message of the
    # same name whose keys differ in order, number or repetition must not be read through another's
    shapes = [
        b"Event: Shape\r\nA: 1\r\nB: 2\r\n\r\n",
        b"Event: Shape\r\nB: 3\r\nA: 4\r\n\r\n",
        b"Event: Shape\r\nA: 5\r\n\r\n",
        b"Event: Shape\r\nA: 6\r\nA: 7\r\nB: 8\r\n\r\n",
        b"Event: Shape\r\nB: 9\r\nC: 10\r\nA: 11\r\n\r\n",
        b"Event: Shape\r\nC: 12\r\n\r\n",
    ]
    want = [("1", "2", None), ("4", "3", None), ("5", None, None), ("6", "8", None), ("11", "9", "10")]
    want.append((None, None, "12"))
    for _ in range(3):  # first sight, then found again (more shapes than the cache keeps per name)
        got = [(m.get("A"), m.get("B"), m.get("C")) for m in frame_all(b"".join(shapes))]
        assert got == want
        shapes.reverse()
        want.reverse()


def test_a_flood_of_event_names_does_not_grow_the_shape_cache_without_bound() -> None:
    from callcenter.ami import framing

    data = b"".join(f"Event: Flood{i}\r\nN: {i}\r\n\r\n".encode() for i in range(3000))
    got = [m.get("N") for m in frame_all(data)]
    assert got == [str(i) for i in range(3000)]
    assert len(framing._SHAPES) <= framing._SHAPES_MAX_NAMES
