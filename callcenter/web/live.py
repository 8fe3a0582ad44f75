"""``/ws``: the WebSocket the live pages listen on. Same session cookie as HTTP; no session, no socket."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from callcenter.web.auth import COOKIE
from callcenter.web.deps import get_hotline

log = logging.getLogger(__name__)
router = APIRouter()


@router.websocket("/ws")
async def live_socket(websocket: WebSocket) -> None:
    hotline = get_hotline(websocket)
    token = websocket.cookies.get(COOKIE) or websocket.query_params.get("token")
    principal = await hotline.users.principal_for(token) if token and hotline.users else None
    if principal is None:
        # Accept, then close with a reason the page can act on (a refused handshake tells it nothing).
        await websocket.accept()
        await websocket.close(code=4401, reason="log in first")
        return
    topics_param = websocket.query_params.get("topics")
    topics = frozenset(t for t in topics_param.split(",") if t) if topics_param else None
    await websocket.accept()
    sub = hotline.hub.subscribe(principal, topics)
    reader = asyncio.create_task(_drain_client(websocket), name=f"ws-read-{principal.username}")
    try:
        while not sub.overflowed:
            getter = asyncio.create_task(sub.queue.get())
            done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if reader in done:
                getter.cancel()
                with suppress(asyncio.CancelledError):
                    await getter
                break
            await websocket.send_text(getter.result())
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        hotline.hub.unsubscribe(sub)
        reader.cancel()
        with suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await reader
        if sub.overflowed:
            with suppress(RuntimeError):
                await websocket.close(code=4408, reason="too slow; reconnect")


async def _drain_client(websocket: WebSocket) -> None:
    """Read (and ignore) what the page sends, so that a close from its side is noticed at once."""
    with suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()
