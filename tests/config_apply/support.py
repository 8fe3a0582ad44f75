"""Helpers of the config-apply tests: render an example into a directory, watch calls on the simulator."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

from callcenter.config.loader import parse_plan
from callcenter.config.render import RenderOptions, render, write_rendered
from callcenter.settings import PROJECT_ROOT
from pbxsim.events import Event
from pbxsim.pbx import PbxSimulator
from routing.plan import ALWAYS_OPEN, HotlinePlan

EXAMPLES = {
    "inner-mongolia": PROJECT_ROOT / "config" / "hotline.yaml",
    "guangdong": PROJECT_ROOT / "config" / "guangdong.yaml",
}


def example_text(name: str) -> str:
    return EXAMPLES[name].read_text(encoding="utf-8")


def plan_of(
    text: str, name: str = "hotline.yaml", menu_timeout: float | None = None, *, always_open: bool = False
) -> HotlinePlan:
    """The file's plan; ``always_open`` makes every line 7x24, so that a test of the menus does not
    depend on the hour it runs at (business hours have their own tests)."""
    plan = parse_plan(text, name)
    if always_open:
        plan = replace(plan, hours=replace(plan.hours, service_lines={}, default_schedule=ALWAYS_OPEN))
    if menu_timeout is None:
        return plan
    menus = {key: replace(menu, timeout_seconds=menu_timeout) for key, menu in plan.menus.items()}
    return replace(plan, menus=menus)


def render_into(plan: HotlinePlan, out: Path, source: str = "hotline.yaml") -> Path:
    """What `hotline config render FILE --out DIR` writes; the simulator reads it from ``out``."""
    write_rendered(render(plan, RenderOptions(source=source)), out)
    return out


@dataclass
class CallTrace:
    """What one call did in the simulated Asterisk, from its AMI events."""

    apps: list[tuple[str, str, str]] = field(default_factory=list)  # (extension, application, data)
    variables: dict[str, str] = field(default_factory=dict)
    joined: list[str] = field(default_factory=list)  # QueueCallerJoin queues
    user_events: list[str] = field(default_factory=list)

    def first(self, app: str) -> str | None:
        """The data of the first run of ``app``."""
        return next((data for _e, a, data in self.apps if a == app), None)

    def ran(self, app: str, prefix: str) -> bool:
        """Whether ``app`` ran with data starting with ``prefix`` (also as ``ExecIf(1?app(data))``)."""
        for _e, a, data in self.apps:
            if a == app and data.startswith(prefix):
                return True
            if a == "ExecIf" and data.startswith(f"1?{app}({prefix}"):
                return True
        return False

    @property
    def queue(self) -> str | None:
        """The queue the dialplan sent the call to (first argument of its first Queue())."""
        data = self.first("Queue")
        return None if data is None else data.split(",")[0]


class Tracer:
    """Records every call's dialplan steps by Linkedid (the caller's channel only)."""

    def __init__(self, sim: PbxSimulator) -> None:
        self.calls: dict[str, CallTrace] = defaultdict(CallTrace)
        sim.add_listener(self._on_event)

    def _on_event(self, event: Event) -> None:
        linkedid = event.get("Linkedid")
        if not linkedid or event.get("Uniqueid") != linkedid:
            return
        trace = self.calls[linkedid]
        if event.name == "Newexten":
            trace.apps.append((event.get("Extension"), event.get("Application"), event.get("AppData")))
        elif event.name == "VarSet":
            trace.variables[event.get("Variable")] = event.get("Value")
        elif event.name == "QueueCallerJoin":
            trace.joined.append(event.get("Queue"))
        elif event.name == "UserEvent":
            trace.user_events.append(event.get("UserEvent"))
