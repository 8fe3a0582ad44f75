"""Browser tests: Playwright driving Debian's Chromium (``/usr/bin/chromium``; a browser download by
Playwright itself does not work here). The set-up installs ``chromium`` and ``fonts-noto-cjk`` with apt-get
when they are missing (CI starts from a fresh machine as root) and skips, saying why, only when that fails.
Screenshots go to ``test-artifacts/`` (gitignored)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from tests.integration.harness import eventually

CHROMIUM = Path("/usr/bin/chromium")
CJK_FONT_DIR = Path("/usr/share/fonts/opentype/noto")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _apt_install(*packages: str) -> str | None:
    """Install Debian packages; None on success, else why it failed."""
    if shutil.which("apt-get") is None:
        return "apt-get is not available"
    try:
        update = subprocess.run(
            ["apt-get", "update"], check=False, capture_output=True, text=True, timeout=300
        )
        if update.returncode != 0:
            return f"apt-get update failed: {update.stderr.strip()[-400:]}"
        result = subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", *packages],
            check=False,
            capture_output=True,
            text=True,
            timeout=900,
            env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"apt-get failed: {exc}"
    if result.returncode != 0:
        return f"apt-get install {' '.join(packages)} failed: {result.stderr.strip()[-400:]}"
    return None


def _has_cjk_font() -> bool:
    if shutil.which("fc-list") is None:
        return CJK_FONT_DIR.exists() and any(CJK_FONT_DIR.glob("NotoSansCJK*"))
    out = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False).stdout
    return "Noto Sans CJK" in out or "Noto Serif CJK" in out


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    missing = []
    if not CHROMIUM.exists():
        missing.append("chromium")
    if not _has_cjk_font():
        missing.append("fonts-noto-cjk")
    if missing:
        why = _apt_install(*missing)
        if why is not None and not CHROMIUM.exists():
            pytest.skip(f"no Chromium at {CHROMIUM} and it could not be installed: {why}")
    ARTIFACTS.mkdir(exist_ok=True)
    return CHROMIUM


@pytest.fixture
async def browser(chromium_path: Path) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        the_browser = await pw.chromium.launch(executable_path=str(chromium_path), args=LAUNCH_ARGS)
        try:
            yield the_browser
        finally:
            await the_browser.close()


async def serve(app: FastAPI) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    """The app on a real uvicorn server on 127.0.0.1, port 0; returns the base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    await eventually(_when(lambda: server.started), 10, "the HTTP server to start")
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, task, f"http://127.0.0.1:{port}"


def _when(condition: Callable[[], bool]) -> Callable[[], Awaitable[bool | None]]:
    async def probe() -> bool | None:
        return True if condition() else None

    return probe
