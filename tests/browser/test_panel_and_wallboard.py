"""The agents' panel and the supervisors' wallboard in a real browser, on the whole hotline over the
simulated PBX: an agent logs in (keyboard only) and goes ready, a simulated call rings, the screen pop shows
the caller's earlier calls, the agent saves a work order, the wallboard follows within 2 seconds."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from agents.state import AgentState
from callcenter.app import create_app
from callcenter.auth.roles import parse_roles
from callcenter.db.calls import upsert_calls
from callcenter.records import CallRecord, Disposition
from pbxsim.endpoints import AgentBehaviour
from pbxsim.scripts import CallerScript
from tests.browser.conftest import ARTIFACTS, serve
from tests.integration.harness import Rig, eventually, hotline_on_simulator

PASSWORD = "browser test 12355"
CALLER = "13800138222"
SOFTPHONE = Path(__file__).resolve().parents[2] / "callcenter/web/static/vendor/jssip.min.js"


@pytest.fixture
async def site(postgres_url: str, database: object, tmp_path: Path) -> AsyncIterator[tuple[Rig, str]]:
    async with hotline_on_simulator(
        postgres_url, tmp_path, default_agent=AgentBehaviour(answer_after=1.0, talk_seconds=6.0)
    ) as rig:
        users = rig.hotline.users
        assert users is not None and rig.hotline.db is not None
        await users.add("a1002", PASSWORD, parse_roles("agent"), display_name="李明", extension="1002")
        await users.add("sup", PASSWORD, parse_roles("supervisor"), display_name="值班班长")
        async with rig.hotline.db.sessions() as session, session.begin():
            await upsert_calls(
                session,
                [
                    CallRecord(
                        linkedid="earlier.1",
                        uniqueid="earlier.1",
                        caller_number=CALLER,
                        arrived_at=datetime.now(UTC) - timedelta(days=2),
                        language="zh",
                        menu_path="1-2",
                        queue="zh-legal",
                        agent="1004",
                        talk_seconds=240.0,
                        disposition=Disposition.ANSWERED,
                    )
                ],
            )
        if rig.hotline.workorders is not None:  # an anonymous caller's work order for the list
            await rig.hotline.workorders.draft_from_record(
                CallRecord(linkedid="anon.1", uniqueid="anon.1", caller_number="anonymous", queue="zh-legal")
            )
        server, task, base = await serve(create_app(rig.hotline.settings, hotline=rig.hotline))
        try:
            yield rig, base
        finally:
            server.should_exit = True
            await task


async def _log_in(page: Page, base: str, username: str, next_page: str) -> None:
    await page.goto(f"{base}/login?next={next_page}")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.press("#password", "Enter")
    await page.wait_for_url(f"{base}{next_page}")


async def _tab_to(page: Page, element_id: str, limit: int = 25) -> None:
    """Move the keyboard focus with Tab until ``element_id`` has it."""
    for _ in range(limit):
        if await page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}")


async def _queue_cell(page: Page, queue: str, cls: str) -> Any:
    return page.locator(f'#queues tr[data-queue="{queue}"] td.{cls}')


async def test_agent_takes_a_call_and_the_wallboard_follows(browser: Any, site: tuple[Rig, str]) -> None:
    rig, base = site
    board = rig.hotline.agents
    assert board is not None
    agent_ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    sup_ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1100})
    panel, wall = await agent_ctx.new_page(), await sup_ctx.new_page()
    errors: list[str] = []
    for page in (panel, wall):
        page.on("pageerror", lambda exc: errors.append(str(exc)))

    # The agent logs in to the web and then to the seat, with the keyboard only; Chinese by default.
    await _log_in(panel, base, "a1002", "/panel")
    await expect(panel.locator("#state")).to_have_text("未签入")
    await expect(panel.locator("#live")).to_have_text("实时")
    if SOFTPHONE.exists():  # `make softphone` ran (npm present): JsSIP is loaded from our own server
        await expect(panel.locator("#softphone")).to_have_text("已加载")
        assert await panel.evaluate("typeof window.JsSIP.UA") == "function"
    else:
        await expect(panel.locator("#softphone")).to_have_text("未安装（由话机应答）")
    await _tab_to(panel, "btn-login")
    await panel.keyboard.press("Enter")
    await expect(panel.locator("#state")).to_have_attribute("data-state", "ready")
    await expect(panel.locator("#state")).to_have_text("就绪")
    assert board.status("1002").state is AgentState.READY

    await _log_in(wall, base, "sup", "/wallboard")
    await expect(wall.locator("#live")).to_have_text("实时")
    ready = await _queue_cell(wall, "zh-legal", "ready")
    await expect(ready).to_have_text("1")
    await expect(wall.locator("#seats")).to_contain_text("1/20")

    # A simulated caller presses 1 (Mandarin) then 2 (legal aid); 1002 is the only agent of zh-legal.
    call = await rig.sim.place_call(CallerScript(number=CALLER, digits=[(0.2, "1"), (0.2, "2")]))

    async def on_call() -> float | None:
        return time.monotonic() if board.status("1002").state is AgentState.ON_CALL else None

    answered_at = await eventually(on_call, 20, "1002 to answer")
    on_call_cell = await _queue_cell(wall, "zh-legal", "on-call")
    await expect(on_call_cell).to_have_text("1", timeout=2000)
    wallboard_lag = time.monotonic() - answered_at
    assert wallboard_lag <= 2.0
    await expect(ready).to_have_text("0", timeout=2000)

    # The screen pop: who, from which menu, and the caller's earlier calls.
    await expect(panel.locator("#call")).to_be_visible(timeout=2000)
    await expect(panel.locator("#call-number")).to_have_text(CALLER)
    await expect(panel.locator("#call-menu")).to_have_text("1-2")
    await expect(panel.locator("#call-queue")).to_have_text("zh-legal")
    await expect(panel.locator("#call-language")).to_have_text("普通话")
    history = panel.locator("#history tbody tr")
    await expect(history).to_have_count(1)
    await expect(history.first).to_contain_text("1004")
    await expect(history.first).to_contain_text("已接听")

    # The work order, when the work-order API is there (GET /api/workorders answers 200).
    work_orders = await panel.evaluate("fetch('/api/workorders?limit=1').then(r => r.status)")
    if work_orders == 200:
        await expect(panel.locator("#wo-form")).to_be_visible()
        await panel.select_option("#wo-service", "legal")
        await panel.select_option("#wo-disposition", "resolved")
        await panel.fill("#wo-summary", "咨询劳动合同纠纷，已告知维权途径。")
        await panel.locator("#wo-form button[type=submit]").click()
        await expect(panel.locator("#wo-result")).to_contain_text("工单已保存", timeout=5000)

    await panel.screenshot(path=str(ARTIFACTS / "panel-on-call.png"), full_page=True)
    await wall.screenshot(path=str(ARTIFACTS / "wallboard-call.png"), full_page=True)

    # After the call: wrap-up on the panel, the answered count on the wallboard, then ready again.
    await call.wait_finished(20)
    await expect(panel.locator("#state")).to_have_attribute("data-state", "wrap-up", timeout=5000)
    row = await rig.finished_call(call.linkedid)
    assert row.disposition == "answered"
    recorded_at = time.monotonic()
    await expect(await _queue_cell(wall, "zh-legal", "answered")).to_have_text("1", timeout=2000)
    answered_lag = time.monotonic() - recorded_at
    assert answered_lag <= 2.0
    (ARTIFACTS / "wallboard-lag.txt").write_text(
        f"on-call shown {wallboard_lag:.3f}s after the agent answered\n"
        f"answered count shown {answered_lag:.3f}s after the call was recorded\n"
    )
    await expect(panel.locator("#state")).to_have_attribute("data-state", "ready", timeout=20000)
    await expect(panel.locator("#answered")).to_have_text("1")

    # English on a button; pause with a reason over the keyboard.
    await panel.click("#lang")
    await expect(panel.locator("#state")).to_have_text("ready")
    await panel.select_option("#pause-reason", "training")
    await _tab_to(panel, "btn-pause")
    await panel.keyboard.press("Enter")
    await expect(panel.locator("#state")).to_have_attribute("data-state", "paused")
    await expect(panel.locator("#reason")).to_contain_text("Training")
    await expect(await _queue_cell(wall, "zh-legal", "ready")).to_have_text("0", timeout=2000)
    await panel.screenshot(path=str(ARTIFACTS / "panel.png"), full_page=True)

    # A crisis alert stays on the wallboard until acknowledged.
    rig.hotline.hub.publish("crisis-alert", {"text": "高危来电：自杀风险", "linkedid": call.linkedid})
    await expect(wall.locator("#alert-list li")).to_have_count(1, timeout=2000)
    await expect(wall.locator("#alert-list")).to_contain_text("高危来电")
    await wall.screenshot(path=str(ARTIFACTS / "wallboard.png"), full_page=True)
    await wall.locator("#alert-list li button").click()
    await expect(wall.locator("#alerts")).to_be_hidden(timeout=2000)

    # The charts are SVG drawn by the server and show today's call.
    svg = await wall.evaluate("fetch('/api/wallboard/charts/calls.svg').then(r => r.text())")
    assert svg.startswith("<svg") and 'class="answered"' in svg

    # The work-order list filtered to anonymous callers names them instead of showing an empty number.
    if work_orders == 200:
        await wall.goto(f"{base}/workorders")
        await wall.check("#anonymous")
        await expect(wall.locator("#orders tbody td.caller")).to_have_text(["匿名来电"])
        await wall.screenshot(path=str(ARTIFACTS / "workorders-anonymous.png"), full_page=True)
    assert not errors, errors
    await agent_ctx.close()
    await sup_ctx.close()
