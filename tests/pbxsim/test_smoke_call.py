from __future__ import annotations

from pathlib import Path

from pbxsim.scripts import CallerScript
from tests.pbxsim.conftest import AgiConn, AgiServer, AmiClient, get


async def test_answered_call_smoke(config_dir: Path, sim_factory) -> None:  # type: ignore[no-untyped-def]
    async def ivr(conn: AgiConn) -> None:
        assert (await conn.cmd("ANSWER")).startswith("200")
        reply = await conn.cmd('GET DATA hotline/welcome 1000 1')
        await conn.cmd(f"SET VARIABLE HOTLINE_QUEUE zh-legal")
        await conn.cmd("SET VARIABLE HOTLINE_PRIORITY 0")
        conn.headers["reply"] = reply

    agi = AgiServer(ivr)
    await agi.start()
    sim = await sim_factory(config_dir, agi.url)
    ami = await AmiClient.connect(sim.ami_port)
    assert get(await ami.login(), "Response") == "Success"
    resp = await ami.action("QueueAdd", Queue="zh-legal", Interface="PJSIP/1002", MemberName="Agent 1002")
    assert get(resp, "Message") == "Added interface to queue"
    call = await sim.place_call(CallerScript(number="13800138000", digits=[(0.02, "1")]))
    outcome = await call.wait_finished(10)
    print(outcome)
    for m in ami.events(call.linkedid):
        print(get(m, "Event"), get(m, "Channel"), get(m, "Variable"), get(m, "Value"))
    print(agi.conns[0].header_lines, agi.conns[0].headers.get("reply"))
    assert outcome.disposition == "answered"
    await ami.close()
    await agi.stop()
