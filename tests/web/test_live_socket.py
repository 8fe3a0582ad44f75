"""The live WebSocket over a real uvicorn server: no session, no socket; a published change arrives."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import uvicorn
import websockets
from fastapi import FastAPI

from callcenter.app import Hotline
from callcenter.auth.roles import SUPERVISORS
from tests.integration.harness import eventually
from tests.web.conftest import PASSWORD


@pytest.fixture
async def served(app: FastAPI) -> AsyncIterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    await eventually(_true_when(lambda: server.started), 10, "the HTTP server to start")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def _true_when(condition: Callable[[], bool]) -> Callable[[], Awaitable[bool | None]]:
    async def probe() -> bool | None:
        return True if condition() else None

    return probe


async def _token(hotline: Hotline, username: str) -> str:
    assert hotline.users is not None
    principal = await hotline.users.verify(username, PASSWORD)
    assert principal is not None
    return (await hotline.users.open_session(principal)).token


async def test_socket_without_a_session_is_closed(served: str) -> None:
    async with websockets.connect(f"ws://{served}/ws") as ws:
        with pytest.raises(websockets.ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), 5)
    assert info.value.rcvd is not None and info.value.rcvd.code == 4401


async def test_published_changes_reach_only_the_roles_they_are_for(hotline: Hotline, served: str) -> None:
    sup, agent = await _token(hotline, "sup"), await _token(hotline, "a1001")
    async with (
        websockets.connect(
            f"ws://{served}/ws", additional_headers={"Cookie": f"hotline_session={sup}"}
        ) as ws_sup,
        websockets.connect(
            f"ws://{served}/ws", additional_headers={"Cookie": f"hotline_session={agent}"}
        ) as ws_agent,
    ):
        await eventually(_true_when(lambda: hotline.hub.subscribers == 2), 5, "both pages to subscribe")
        hotline.hub.publish("crisis-alert", {"linkedid": "1.1", "text": "高危来电"}, roles=SUPERVISORS)
        hotline.hub.publish("queue", {"queue": "zh-legal"})
        first = json.loads(await asyncio.wait_for(ws_sup.recv(), 5))
        assert (first["topic"], first["data"]["text"]) == ("crisis-alert", "高危来电")
        only = json.loads(await asyncio.wait_for(ws_agent.recv(), 5))
        assert only["topic"] == "queue"
