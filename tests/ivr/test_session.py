"""The IVR over real TCP: our FastAGI server on 127.0.0.1:0, a scripted fake Asterisk as the client."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import pytest

from ivr.agi.server import FastAgiServer
from ivr.session import make_ivr_route
from routing.plan import ActionKind, HotlinePlan, MenuAction

from .fake_asterisk import (
    FAIL,
    HANGUP,
    HANGUP_AFTER_DIGITS,
    HANGUP_EOF,
    HANGUP_REAL_ORDER,
    HASH,
    WAIT,
    FakeAsterisk,
)
from .plans import example_plan, with_menu

VARIABLE_ORDER = [
    "HOTLINE_LANGUAGE",
    "HOTLINE_MENU_PATH",
    "HOTLINE_PRIORITY",
    "HOTLINE_QUEUE_TIMEOUT",
    "HOTLINE_QUEUE",
]


class Holder:
    def __init__(self, plan: HotlinePlan) -> None:
        self.plan = plan
        self.reads = 0
        self.latencies: list[float] = []

    def __call__(self) -> HotlinePlan:
        self.reads += 1
        return self.plan


@pytest.fixture
def holder() -> Holder:
    return Holder(example_plan())


@pytest.fixture
async def server(holder: Holder) -> AsyncIterator[FastAgiServer]:
    route = make_ivr_route(holder, clock=time.perf_counter, on_step_latency=holder.latencies.append)
    agi = FastAgiServer({"ivr": route}, port=0, header_timeout=2.0, command_timeout=WAIT)
    await agi.start()
    yield agi
    await agi.stop()
    assert agi.connections == 0


async def call(server: FastAgiServer, **kwargs: object) -> FakeAsterisk:
    fake = FakeAsterisk(server.port, **kwargs)  # type: ignore[arg-type]
    await asyncio.wait_for(fake.run(), WAIT)
    await asyncio.wait_for(server.wait_idle(), WAIT)
    return fake


def set_commands(fake: FakeAsterisk) -> list[str]:
    return [c for c in fake.commands if c.startswith("SET VARIABLE")]


async def test_press_1_then_2_goes_to_zh_legal(server: FastAgiServer, holder: Holder) -> None:
    fake = await call(server, get_data=["1", "2"])
    assert fake.commands == [
        "GET DATA hotline/choose-language 5000 1",
        "GET DATA zh/choose-service 5000 1",
        "SET VARIABLE HOTLINE_LANGUAGE zh",
        "SET VARIABLE HOTLINE_MENU_PATH 1-2",
        "SET VARIABLE HOTLINE_PRIORITY 0",
        "SET VARIABLE HOTLINE_QUEUE_TIMEOUT 600",
        "SET VARIABLE HOTLINE_QUEUE zh-legal",
    ]
    assert list(fake.variables) == VARIABLE_ORDER
    assert fake.variables["HOTLINE_QUEUE"] == "zh-legal"
    assert fake.closed_by_server
    assert holder.reads == 1
    assert len(holder.latencies) == 2 and all(0 <= x < WAIT for x in holder.latencies)


async def test_mongolian_path(server: FastAgiServer) -> None:
    fake = await call(server, get_data=["2", "1"])
    assert fake.commands[1] == "GET DATA mn/choose-service 5000 1"
    assert fake.variables == {
        "HOTLINE_LANGUAGE": "mn",
        "HOTLINE_MENU_PATH": "2-1",
        "HOTLINE_PRIORITY": "0",
        "HOTLINE_QUEUE_TIMEOUT": "600",
        "HOTLINE_QUEUE": "mn-psychology",
    }


async def test_network_script_with_query_routes_to_ivr(server: FastAgiServer) -> None:
    fake = await call(server, script="ivr?lang=mn", get_data=["2", "4"])
    assert fake.variables["HOTLINE_QUEUE"] == "mn-adolescent"


async def test_no_key_repeats_prompt_then_default_queue(server: FastAgiServer) -> None:
    fake = await call(server, get_data=[None, None, None])
    assert fake.commands[:3] == ["GET DATA hotline/choose-language 5000 1"] * 3
    assert fake.variables["HOTLINE_MENU_PATH"] == "t-t-t"
    assert fake.variables["HOTLINE_QUEUE"] == "zh-psychology"
    assert fake.variables["HOTLINE_LANGUAGE"] == "zh"
    assert list(fake.variables)[-1] == "HOTLINE_QUEUE"


async def test_invalid_key_plays_invalid_then_prompt_then_default_queue(server: FastAgiServer) -> None:
    fake = await call(server, get_data=["9", "9", HASH])
    assert fake.commands[:5] == [
        "GET DATA hotline/choose-language 5000 1",
        'STREAM FILE hotline/invalid ""',
        "GET DATA hotline/choose-language 5000 1",
        'STREAM FILE hotline/invalid ""',
        "GET DATA hotline/choose-language 5000 1",
    ]
    assert fake.variables["HOTLINE_MENU_PATH"] == "i-i-i"
    assert fake.variables["HOTLINE_QUEUE"] == "zh-psychology"


async def test_hash_key_can_be_a_menu_option(server: FastAgiServer, holder: Holder) -> None:
    plan = holder.plan
    service = plan.menus["service"]
    holder.plan = with_menu(
        plan,
        replace(service, options={**service.options, "#": MenuAction(ActionKind.QUEUE, "{language}-family")}),
    )
    fake = await call(server, get_data=["2", HASH])
    assert fake.variables["HOTLINE_MENU_PATH"] == "2-#"
    assert fake.variables["HOTLINE_QUEUE"] == "mn-family"


async def test_partial_digits_then_timeout_are_used(server: FastAgiServer, holder: Holder) -> None:
    plan = holder.plan
    service = plan.menus["service"]
    holder.plan = with_menu(
        plan,
        replace(
            service, options={**service.options, "12": MenuAction(ActionKind.QUEUE, "{language}-family")}
        ),
    )
    fake = await call(server, get_data=["1", "1 (timeout)"])
    assert fake.commands[1] == "GET DATA zh/choose-service 5000 2"
    assert fake.variables["HOTLINE_MENU_PATH"] == "1-1"
    assert fake.variables["HOTLINE_QUEUE"] == "zh-psychology"


async def test_service_menu_retries_in_mongolian(server: FastAgiServer) -> None:
    fake = await call(server, get_data=["2", None, "0", None])
    assert 'STREAM FILE mn/invalid ""' in fake.commands
    assert fake.variables["HOTLINE_MENU_PATH"] == "2-t-i-t"
    assert (fake.variables["HOTLINE_LANGUAGE"], fake.variables["HOTLINE_QUEUE"]) == ("mn", "zh-psychology")


@pytest.mark.parametrize("entry", [HANGUP, HANGUP_REAL_ORDER, HANGUP_AFTER_DIGITS, HANGUP_EOF])
async def test_hangup_during_get_data_sets_nothing(
    server: FastAgiServer, entry: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "ivr")
    fake = await call(server, get_data=["1", entry])
    assert set_commands(fake) == []
    assert fake.variables == {}
    assert fake.closed_by_server or entry == HANGUP_EOF
    assert "hung up" in caplog.text


async def test_missing_prompt_counts_as_timeout(server: FastAgiServer) -> None:
    fake = await call(server, get_data=["1", FAIL, FAIL, "3"])
    assert fake.commands.count("CHANNEL STATUS") == 2
    assert fake.variables["HOTLINE_MENU_PATH"] == "1-t-t-3"
    assert fake.variables["HOTLINE_QUEUE"] == "zh-drugs-aids"


async def test_plan_is_read_once_per_call(server: FastAgiServer, holder: Holder) -> None:
    plan = holder.plan
    swapped = with_menu(
        plan,
        replace(
            plan.menus["service"],
            options={"2": MenuAction(ActionKind.QUEUE, "{language}-family")},
        ),
    )

    def swap_on_first_get_data(line: str) -> None:
        if line.startswith("GET DATA"):
            holder.plan = swapped

    fake = await call(server, get_data=["1", "2"], on_command=swap_on_first_get_data)
    assert fake.variables["HOTLINE_QUEUE"] == "zh-legal"  # the plan of the call's start
    fake = await call(server, get_data=["1", "2"])
    assert fake.variables["HOTLINE_QUEUE"] == "zh-family"  # the next call sees the new plan
    assert holder.reads == 2


async def test_crisis_option_sets_action_variable(server: FastAgiServer, holder: Holder) -> None:
    plan = holder.plan
    service = plan.menus["service"]
    holder.plan = replace(
        with_menu(plan, replace(service, options={**service.options, "0": MenuAction(ActionKind.CRISIS)})),
        crisis_priority=9,
    )
    fake = await call(server, get_data=["2", "0"])
    assert list(fake.variables) == [
        "HOTLINE_LANGUAGE",
        "HOTLINE_MENU_PATH",
        "HOTLINE_PRIORITY",
        "HOTLINE_QUEUE_TIMEOUT",
        "HOTLINE_ACTION",
        "HOTLINE_QUEUE",
    ]
    assert (fake.variables["HOTLINE_PRIORITY"], fake.variables["HOTLINE_ACTION"]) == ("9", "crisis")


async def test_callback_option_sets_action_and_target(server: FastAgiServer, holder: Holder) -> None:
    plan = holder.plan
    service = plan.menus["service"]
    holder.plan = with_menu(
        plan, replace(service, options={"6": MenuAction(ActionKind.CALLBACK, "请留言 callback")})
    )
    fake = await call(server, get_data=["1", "6"])
    assert fake.variables["HOTLINE_ACTION"] == "callback"
    assert fake.variables["HOTLINE_ACTION_TARGET"] == "请留言 callback"
    assert 'SET VARIABLE HOTLINE_ACTION_TARGET "请留言 callback"' in fake.commands
    assert list(fake.variables)[-1] == "HOTLINE_QUEUE"


async def test_concurrent_calls(server: FastAgiServer) -> None:
    scripts: list[list[str | None]] = [[str(1 + i % 2), str(1 + i % 5)] for i in range(20)]
    fakes = await asyncio.wait_for(
        asyncio.gather(*(FakeAsterisk(server.port, get_data=s).run() for s in scripts)), WAIT
    )
    for script, fake in zip(scripts, fakes, strict=True):
        assert fake.variables["HOTLINE_MENU_PATH"] == f"{script[0]}-{script[1]}"


def test_route_factory_defaults() -> None:
    route: Callable[..., object] = make_ivr_route(example_plan)
    assert callable(route)
