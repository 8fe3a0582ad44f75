"""Endpoints (agents' phones and the outside world) and how they behave when rung."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AgentBehaviour:
    """How a phone reacts: answers after `answer_after` s (or never), talks `talk_seconds`, then hangs up.

    `registered=False` makes the endpoint unreachable: device state unavailable (5), never rung.
    """

    answer_after: float = 1.0
    talk_seconds: float = 5.0
    answers: bool = True
    registered: bool = True


class Endpoints:
    """The endpoint registry: explicit behaviours by resource (`1002`), else the default one."""

    def __init__(self, default: AgentBehaviour) -> None:
        self.default = default
        self._behaviours: dict[str, AgentBehaviour] = {}

    def set(self, resource: str, behaviour: AgentBehaviour) -> None:
        self._behaviours[resource] = behaviour

    def get(self, resource: str) -> AgentBehaviour:
        return self._behaviours.get(resource, self.default)


def resource_of(interface: str) -> str:
    """`PJSIP/1002` -> `1002`; `PJSIP/trunk/13800138000` -> `13800138000`."""
    parts = interface.split("/")
    return parts[-1] if len(parts) > 1 else interface


def dial_target(target: str) -> tuple[str, str]:
    """Dial string -> (device, number): `PJSIP/110@pstn` -> (`PJSIP/pstn`, `110`) as chan_pjsip names
    the channel after the endpoint; `PJSIP/trunk/138...` -> (`PJSIP/trunk`, `138...`); `PJSIP/1002`."""
    tech, _, rest = target.partition("/")
    if "@" in rest:
        number, _, endpoint = rest.partition("@")
        return f"{tech}/{endpoint}", number
    if "/" in rest:
        endpoint, _, number = rest.partition("/")
        return f"{tech}/{endpoint}", number
    return target, rest
