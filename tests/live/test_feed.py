from __future__ import annotations

import asyncio
import logging

import pytest

from callcenter.ami.connection import AmiConnection
from callcenter.ami.framing import AmiMessage
from callcenter.live.feed import LiveFeed, rebuild
from callcenter.live.model import CallChanged, CallEnded, Change, LiveModel
from tests.ami.fake_ami import FakeAmi

CHANNEL = [
    ("Channel", "PJSIP/trunk-1"),
    ("ChannelState", "6"),
    ("CallerIDNum", "13800138000"),
    ("CallerIDName", "共青团"),
    ("Exten", "12355"),
    ("Context", "hotline-inbound"),
    ("Uniqueid", "1760000000.1"),
    ("Linkedid", "1760000000.1"),
]


def test_feed_translates_applies_and_survives_bad_input(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[Change] = []

    def subscriber(changes: list[Change]) -> None:
        seen.extend(changes)
        if any(isinstance(c, CallEnded) for c in changes):
            raise RuntimeError("subscriber bug")

    feed = LiveFeed(LiveModel(), subscriber, clock=lambda: 1_760_000_000.0)
    feed.on_message(AmiMessage([("Event", "Newchannel"), *CHANNEL]))
    with caplog.at_level(logging.WARNING):
        feed.on_message(AmiMessage([("Event", "Hangup"), *CHANNEL, ("Cause", "x")]))
        feed.on_message(AmiMessage([("Event", "Hangup"), *CHANNEL, ("Cause", "16")]))
    assert "AMI event dropped" in caplog.text and "('Cause', 'x')" in caplog.text
    assert "subscriber failed" in caplog.text
    assert feed.dropped == 1 and feed.applied == 2
    assert isinstance(seen[0], CallChanged) and seen[0].record.arrived_at is not None
    assert isinstance(seen[-1], CallEnded) and seen[-1].record.hangup_cause == 16


async def test_rebuild_from_list_actions() -> None:
    server = FakeAmi()
    server.handlers["CoreShowChannels"] = lambda h, p: [
        [("Response", "Success"), ("EventList", "start"), ("Message", "Channels will follow")],
        [("Event", "CoreShowChannel"), *CHANNEL, ("Application", "Queue"), ("Duration", "00:00:30")],
        [("Event", "CoreShowChannelsComplete"), ("EventList", "Complete"), ("ListItems", "1")],
    ]
    server.handlers["QueueStatus"] = lambda h, p: [
        [("Response", "Success"), ("EventList", "start"), ("Message", "Queue status will follow")],
        [("Event", "QueueParams"), ("Queue", "q1"), ("Strategy", "rrmemory")],
        [
            ("Event", "QueueMember"),
            ("Queue", "q1"),
            ("Name", "Agent 1001"),
            ("Location", "PJSIP/1001"),
            ("Status", "1"),
        ],
        [
            ("Event", "QueueEntry"),
            ("Queue", "q1"),
            ("Position", "1"),
            ("Channel", "PJSIP/trunk-1"),
            ("Uniqueid", "1760000000.1"),
            ("CallerIDNum", "13800138000"),
            ("Wait", "25"),
            ("Priority", "2"),
        ],
        [("Event", "QueueStatusComplete"), ("EventList", "Complete"), ("ListItems", "3")],
    ]
    await server.start()
    model = LiveModel()
    feed = LiveFeed(model, clock=lambda: 1_760_000_100.0)
    conn = AmiConnection("127.0.0.1", server.port, server.username, server.secret, on_message=feed.on_message)
    await conn.start()
    try:
        await conn.wait_connected(5)
        assert await asyncio.wait_for(rebuild(conn, feed), 5) == 4
    finally:
        await conn.stop()
        await server.close()
    [call] = model.calls()
    assert call.caller_number == "13800138000" and call.queue == "q1"
    [queue] = model.queue_snapshots()
    assert queue.strategy == "rrmemory"
    assert [m.member_name for m in queue.members] == ["Agent 1001"]
    assert [(w.linkedid, w.priority) for w in queue.waiting] == [("1760000000.1", 2)]
