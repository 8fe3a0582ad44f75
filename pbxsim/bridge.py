"""A two-party basic bridge and its BridgeCreate/Enter/Leave/Destroy events."""

from __future__ import annotations

import asyncio
import random
import uuid

from pbxsim.channel import Channel
from pbxsim.events import EventBus, Fields


class Bridge:
    """One bridge, in ``live`` (the runtime's bridges by BridgeUniqueid) from creation to destruction."""

    def __init__(self, bus: EventBus, rng: random.Random, live: dict[str, Bridge]) -> None:
        self.bus = bus
        self.uniqueid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.members: list[Channel] = []
        self._live = live
        live[self.uniqueid] = self
        bus.emit("BridgeCreate", "call", self._fields())

    def fields(self) -> Fields:
        return self._fields()

    def _fields(self) -> Fields:
        return [
            ("BridgeUniqueid", self.uniqueid),
            ("BridgeType", "basic"),
            ("BridgeTechnology", "simple_bridge"),
            ("BridgeCreator", "<unknown>"),
            ("BridgeName", "<unknown>"),
            ("BridgeNumChannels", str(len(self.members))),
            ("BridgeVideoSourceMode", "none"),
        ]

    def enter(self, channel: Channel) -> None:
        self.members.append(channel)
        channel.bridge_id = self.uniqueid
        if not self.bus.idle:
            self.bus.emit("BridgeEnter", "call", self._fields() + channel.snapshot())

    def leave(self, channel: Channel) -> None:
        if channel not in self.members:
            return
        self.members.remove(channel)
        channel.bridge_id = ""
        if not self.bus.idle:
            self.bus.emit("BridgeLeave", "call", self._fields() + channel.snapshot())

    async def talk(self, caller: Channel, peer: Channel) -> None:
        """``caller`` and ``peer``, both in this bridge, talk until one hangs up. The one who hung up leaves
        first, then the other; the bridge goes and ``peer``'s channel ends (cause 16, normal clearing)."""
        await asyncio.wait((caller.interrupt, peer.interrupt), return_when=asyncio.FIRST_COMPLETED)
        first, second = (peer, caller) if peer.hungup and not caller.hungup else (caller, peer)
        self.leave(first)
        self.leave(second)
        self.destroy()
        peer.finish(16)

    def destroy(self) -> None:
        for channel in list(self.members):
            self.leave(channel)
        self._live.pop(self.uniqueid, None)
        self.bus.emit("BridgeDestroy", "call", self._fields())
