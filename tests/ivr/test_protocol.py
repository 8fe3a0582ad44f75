"""The FastAGI wire format: header block, replies, quoting (with property tests)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.agi.protocol import (
    MAX_COMMAND_BYTES,
    AgiCommandError,
    AgiHangup,
    AgiProtocolError,
    AgiReply,
    ReplyParser,
    check_reply,
    format_command,
    is_hangup_line,
    parse_request,
    quote_arg,
)

from .asterisk_parse_args import parse_args

HEADER = [
    "agi_network: yes",
    "agi_network_script: ivr?lang=mn&x=1&x=2&empty=",
    "agi_request: agi://127.0.0.1:4573/ivr?lang=mn&x=1&x=2&empty=",
    "agi_channel: PJSIP/trunk-00000001",
    "agi_language: en",
    "agi_type: PJSIP",
    "agi_uniqueid: 1732350000.42",
    "agi_version: 22.4.1",
    "agi_callerid: unknown",
    "agi_calleridname: 共青团 12355: Бат",
    "agi_callingpres: 0",
    "agi_callingani2: 0",
    "agi_callington: 0",
    "agi_callingtns: 0",
    "agi_dnid: 12355",
    "agi_rdnis: unknown",
    "agi_context: hotline-inbound",
    "agi_extension: 12355",
    "agi_priority: 4",
    "agi_enhanced: 0.0",
    "agi_accountcode: ",
    "agi_threadid: 140241384552000",
    "agi_arg_2: second, with comma",
    "agi_arg_1: first",
    "agi_arg_10: tenth",
]


def test_parse_request_full_header() -> None:
    request = parse_request(HEADER)
    assert request.script_path == "ivr"
    assert request.network_script == "ivr?lang=mn&x=1&x=2&empty="
    assert dict(request.params) == {"lang": "mn", "x": "2", "empty": ""}
    assert request.args == ("first", "second, with comma", "tenth")
    assert request.uniqueid == "1732350000.42"
    assert request.channel == "PJSIP/trunk-00000001"
    assert request.request.startswith("agi://127.0.0.1:4573/ivr")
    assert request.language == "en"
    assert (request.context, request.extension) == ("hotline-inbound", "12355")
    assert request.callerid is None and request.rdnis is None
    assert request.calleridname == "共青团 12355: Бат"
    assert request.dnid == "12355"
    assert request.get("accountcode") == "" and request.get("agi_accountcode") == ""
    assert request.get("priority") == "4"
    assert request.get("nope") is None
    assert len(request.env) == len(HEADER)


@pytest.mark.parametrize(
    "script,path,params",
    [
        ("ivr", "ivr", {}),
        ("ivr/", "ivr", {}),
        ("/ivr?lang=mn", "ivr", {"lang": "mn"}),
        ("callback%20queue?a=%E4%B8%AD", "callback queue", {"a": "中"}),
        ("", "", {}),
    ],
)
def test_network_script_routing(script: str, path: str, params: dict[str, str]) -> None:
    lines = ["agi_network: yes", f"agi_network_script: {script}"] if script else ["agi_network: yes"]
    request = parse_request(lines)
    assert request.script_path == path
    assert dict(request.params) == params


def test_known_caller_and_missing_values() -> None:
    request = parse_request(["agi_callerid: 13800138000", "agi_calleridname:nospace"])
    assert request.callerid == "13800138000"
    assert request.calleridname == "nospace"
    assert request.uniqueid == "" and request.channel == "" and request.language == ""
    assert request.request == "" and request.context == "" and request.extension == ""


@pytest.mark.parametrize(
    "bad", [["garbage"], ["agi_x: 1", "no colon"], [": value"], ["a b: c"], ["foo: bar"]]
)
def test_parse_request_rejects_garbage(bad: list[str]) -> None:
    with pytest.raises(AgiProtocolError):
        parse_request(bad)


def feed_all(lines: list[str]) -> list[AgiReply]:
    parser = ReplyParser()
    replies = [r for line in lines if (r := parser.feed(line)) is not None]
    assert not parser.in_progress
    return replies


@pytest.mark.parametrize(
    "line,expected",
    [
        ("200 result=0", AgiReply(200, "0")),
        ("200 result=1", AgiReply(200, "1")),
        ("200 result=-1", AgiReply(200, "-1")),
        ("200 result=0 endpos=16000", AgiReply(200, "0", endpos=16000)),
        ("200 result=49 endpos=8000", AgiReply(200, "49", endpos=8000)),
        ("200 result=-1 endpos=0", AgiReply(200, "-1", endpos=0)),
        ("200 result=12", AgiReply(200, "12")),
        ("200 result=", AgiReply(200, "")),
        ("200 result= (timeout)", AgiReply(200, "", data="timeout")),
        ("200 result=1 (timeout)", AgiReply(200, "1", data="timeout")),
        ("200 result=1 ()", AgiReply(200, "1", data="")),
        (
            "200 result=1 (a value (with) parens and spaces)",
            AgiReply(200, "1", data="a value (with) parens and spaces"),
        ),
        ("200 result=1 (x endpos=5)", AgiReply(200, "1", data="x endpos=5")),
        ("200 result=1 (蒙古语 Монгол)", AgiReply(200, "1", data="蒙古语 Монгол")),
        ("200 result=-1 (hangup) endpos=1234", AgiReply(200, "-1", data="hangup", endpos=1234)),
        ("200 result=0 Gosub complete", AgiReply(200, "0", text="Gosub complete")),
        ("100 result=0 Trying...", AgiReply(100, "0", text="Trying...")),
        ("510 Invalid or unknown command", AgiReply(510, text="Invalid or unknown command")),
        (
            "511 Command Not Permitted on a dead channel or intercept routine",
            AgiReply(511, text="Command Not Permitted on a dead channel or intercept routine"),
        ),
        ("520 Invalid command syntax.", AgiReply(520, text="Invalid command syntax.")),
        ("510", AgiReply(510)),
    ],
)
def test_single_line_replies(line: str, expected: AgiReply) -> None:
    assert feed_all([line]) == [expected]


def test_result_int() -> None:
    assert AgiReply(200, "49").result_int == 49
    assert AgiReply(200, "").result_int is None
    assert AgiReply(200, "*1").result_int is None
    assert AgiReply(510).result_int is None


def test_multi_line_520_until_end_of_usage() -> None:
    lines = [
        "520-Invalid command syntax.  Proper usage follows:",
        " Usage: GET DATA <file to be streamed> [timeout] [maxdigits]",
        "",
        "200 result=0 (this is usage text, not a reply)",
        "520 End of proper usage.",
        "200 result=1",
    ]
    replies = feed_all(lines)
    assert replies[0].code == 520
    assert replies[0].text.splitlines()[0] == "Invalid command syntax.  Proper usage follows:"
    assert "GET DATA" in replies[0].text
    assert replies[1] == AgiReply(200, "1")


@pytest.mark.parametrize(
    "line",
    ["HANGUP", "", "hello", "200", "200 nothing", "200result=1", "300 result=1", "510-x", "2x0 result=1"],
)
def test_garbage_replies_raise_protocol_error(line: str) -> None:
    with pytest.raises(AgiProtocolError):
        ReplyParser().feed(line)


def test_hangup_line() -> None:
    assert is_hangup_line("HANGUP") and is_hangup_line("HANGUP ")
    assert not is_hangup_line("200 result=1")


def test_check_reply_errors() -> None:
    assert check_reply(AgiReply(200, "1")) == AgiReply(200, "1")
    with pytest.raises(AgiHangup):
        check_reply(AgiReply(511, text="Command Not Permitted"), "STREAM FILE x")
    with pytest.raises(AgiCommandError) as err:
        check_reply(AgiReply(520, text="usage"), "GET DATA")
    assert (err.value.code, err.value.text, err.value.command) == (520, "usage", "GET DATA")
    with pytest.raises(AgiCommandError):
        check_reply(AgiReply(510, text="Invalid"))
    with pytest.raises(AgiProtocolError):
        check_reply(AgiReply(100, "0", text="Trying..."))


def test_too_long_520_block_is_a_protocol_error() -> None:
    parser = ReplyParser()
    parser.feed("520-start")
    with pytest.raises(AgiProtocolError):
        for _ in range(2000):
            parser.feed("usage")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=60), max_size=20))
def test_reply_parser_only_raises_protocol_errors(lines: list[str]) -> None:
    parser = ReplyParser()
    for line in lines:
        try:
            reply = parser.feed(line)
        except AgiProtocolError:
            continue
        if reply is not None:
            assert 100 <= reply.code <= 599


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["200 result=", "100 result=", "510 ", "511 ", "520-", "520 "]), st.text(max_size=80))
def test_reply_parser_on_plausible_prefixes(prefix: str, rest: str) -> None:
    parser = ReplyParser()
    with contextlib.suppress(AgiProtocolError):
        parser.feed(prefix + rest)


# -- quoting ---------------------------------------------------------------------------------------------

WORD_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\n\r\0"), max_size=40)


@pytest.mark.parametrize(
    "word",
    [
        "",
        "plain",
        "two words",
        'say "hi"',
        "back\\slash",
        "tab\there",
        '"',
        "\\",
        '\\"',
        "共青团 12355",
        "ᠮᠣᠩᠭᠣᠯ",
    ],
)
def test_quote_round_trips_examples(word: str) -> None:
    line = format_command("SET", "VARIABLE", "X", word)
    assert parse_args(line.encode()) == [b"SET", b"VARIABLE", b"X", word.encode()]


def test_plain_words_are_not_quoted() -> None:
    assert (
        format_command("GET", "DATA", "zh/choose-service", "5000", "1") == "GET DATA zh/choose-service 5000 1"
    )
    assert format_command("STREAM", "FILE", "hotline/invalid", "") == 'STREAM FILE hotline/invalid ""'
    assert quote_arg('a "b"') == '"a \\"b\\""'


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "nul\0"])
def test_unsendable_words_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        quote_arg(bad)


def test_command_limits() -> None:
    with pytest.raises(ValueError):
        format_command()
    with pytest.raises(ValueError):
        format_command(*(["w"] * 128))
    with pytest.raises(ValueError):
        format_command("VERBOSE", "中" * MAX_COMMAND_BYTES)
    assert len(parse_args(format_command(*(["w"] * 127)).encode())) == 127


@settings(max_examples=500, deadline=None)
@given(st.lists(WORD_TEXT, min_size=1, max_size=8))
def test_quoting_round_trips_through_parse_args(words: list[str]) -> None:
    line = format_command("SET", "VARIABLE", *words)
    assert "\r" not in line and "\n" not in line
    assert parse_args(line.encode("utf-8")) == [b"SET", b"VARIABLE", *(w.encode("utf-8") for w in words)]


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.one_of(
            st.characters(min_codepoint=0x1800, max_codepoint=0x18AF),  # Mongolian script
            st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # CJK
            st.sampled_from(' "\\\t'),
        ),
        max_size=30,
    )
)
def test_quoting_round_trips_chinese_and_mongolian(word: str) -> None:
    assert parse_args(format_command("VERBOSE", word).encode()) == [b"VERBOSE", word.encode()]
