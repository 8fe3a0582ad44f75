"""/metrics, /readyz and the JSON logs, on the hotline running against the simulated PBX."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from callcenter.app import create_app
from callcenter.observability.logs import JsonFormatter, mask_numbers
from pbxsim.scripts import CallerScript
from tests.integration.harness import Rig, eventually, hotline_on_simulator

pytestmark = pytest.mark.slow


@pytest.fixture
async def rig(postgres_url: str, database: object, tmp_path: Path) -> AsyncIterator[Rig]:
    async with hotline_on_simulator(postgres_url, tmp_path) as the_rig:
        yield the_rig


def _value(text: str, name: str) -> float | None:
    for line in text.splitlines():
        if line.startswith((name + " ", name + "{")):
            return float(line.rsplit(" ", 1)[1])
    return None


async def test_metrics_show_a_waiting_caller_the_link_and_the_spool(rig: Rig) -> None:
    app = create_app(rig.hotline.settings, hotline=rig.hotline)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline.test") as client:
        # Nobody in the Mongolian legal queue: the caller waits there.
        call = await rig.sim.place_call(
            CallerScript(number="13900139000", digits=[(0.1, "2"), (0.1, "2")], hangup_after=8.0)
        )

        async def waiting() -> str | None:
            body = (await client.get("/metrics")).text
            return body if 'hotline_calls_waiting{queue="mn-legal"} 1.0' in body else None

        body = await eventually(waiting, 10, "the caller to show as waiting on /metrics")
        assert _value(body, "hotline_ami_connected") == 1.0
        assert _value(body, "hotline_db_spool_depth") is not None
        assert _value(body, "hotline_seats_open") == 0.0
        lag = _value(body, "hotline_ami_event_lag_seconds")
        assert lag is not None and 0 <= lag < 10
        assert "hotline_service_level_ratio" in body and "hotline_ami_events_applied_total" in body
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["ready"] is True
        call.hangup()
        await call.wait_finished(10)

        assert rig.hotline.ami is not None
        await rig.hotline.ami.stop()  # the link is gone: not ready, and /metrics says so
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["ami"] is False
        assert _value((await client.get("/metrics")).text, "hotline_ami_connected") == 0.0


def test_json_logs_mask_caller_numbers() -> None:
    record = logging.makeLogRecord(
        {
            "name": "callcenter.x",
            "levelname": "INFO",
            "msg": "call from %s to 12355",
            "args": ("13800138000",),
        }
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "call from 138****8000 to 12355"
    assert line["level"] == "INFO" and line["logger"] == "callcenter.x"
    assert (
        mask_numbers("+8613800138000 and linkedid 1795443366.12")
        == "+86*******8000 and linkedid 1795443366.12"
    )
