"""The hotline on the simulated PBX with Asterisk's CDR and queue_log switched on, short calls, and the
comparison of the calls table with the simulator's ground truth used by every fault test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.app import Hotline
from callcenter.db.models import Call
from callcenter.settings import PROJECT_ROOT, AmiTarget, Settings, load_settings
from pbxsim.endpoints import AgentBehaviour
from pbxsim.pbx import PbxSimulator
from pbxsim.scripts import CallOutcome
from pbxsim.traffic import TrafficGenerator, TrafficProfile
from tests.integration.harness import SECRET, eventually, quick_plan

# Every caller gives up after a few seconds at most, every answered call is short: 200 calls end in ~15 s.
SHORT_CALLS = TrafficProfile(
    digit_delay=(0.05, 0.3),
    patience=(1.0, 5.0),
    impatient_share=1.0,
    talk=(0.3, 1.5),
    caller_ends_share=1.0,
)
TOLERANCE = 1.5  # seconds: app_queue reports whole seconds


def hotline_settings(database_url: str, tmp: Path, agi_port: int = 0) -> Settings:
    return load_settings(
        database_url=database_url,
        data_dir=tmp,
        agi_port=agi_port,
        ami_ping_interval=1.0,
        ami_ping_timeout=2.0,
    )


async def start_hotline(database_url: str, tmp: Path, sim: PbxSimulator, agi_port: int = 0) -> Hotline:
    hotline = Hotline(hotline_settings(database_url, tmp, agi_port=agi_port), plan=quick_plan(0.5))
    await hotline.start()
    await hotline.connect_ami(
        AmiTarget(host="127.0.0.1", port=sim.ami_port, username="hotline", secret=SECRET)
    )
    assert hotline.ami is not None
    await hotline.ami.wait_connected(10)
    return hotline


@dataclass
class FaultRig:
    hotline: Hotline
    sim: PbxSimulator
    database_url: str
    tmp: Path

    async def log_in_everyone(self) -> None:
        assert self.hotline.desk is not None and self.hotline.plan is not None
        for agent in self.hotline.plan.agents:
            await self.hotline.desk.log_in(agent.extension)

    def kill_ami(self) -> int:
        """Cut every AMI session from the PBX side, as a dropped TCP link would; how many were logged in."""
        sessions = list(self.sim.ami.sessions)
        for session in sessions:
            session.close()
        return sum(1 for session in sessions if session.authenticated)

    async def ami_relinked(self, logins: int, timeout: float = 15.0) -> None:
        """Wait until the hotline has logged in to AMI again after its ``logins``-th login.

        ``wait_connected`` alone is not enough right after a kill: until the hotline reads the EOF it
        still believes the old link is up."""
        ami = self.hotline.ami
        assert ami is not None

        async def probe() -> bool | None:
            return True if ami.connected and ami.connects > logins else None

        await eventually(probe, timeout, f"AMI login number {logins + 1}")


@asynccontextmanager
async def fault_rig(database_url: str, tmp: Path, *, cdr_url: str | None = None) -> AsyncIterator[FaultRig]:
    sim = PbxSimulator(
        PROJECT_ROOT / "asterisk-config",
        ami_port=0,
        ami_users={"hotline": SECRET},
        globals={"HOTLINE_AGI": "agi://127.0.0.1:1/ivr"},
        prompt_seconds=0.02,
        default_agent=AgentBehaviour(answer_after=0.2, talk_seconds=1.0),
        cdr_url=cdr_url or database_url,
    )
    await sim.start()
    hotline: Hotline | None = None
    try:
        hotline = await start_hotline(database_url, tmp, sim)
        assert hotline.agi is not None
        sim.rt.global_overrides["HOTLINE_AGI"] = f"agi://127.0.0.1:{hotline.agi.port}/ivr"
        sim.reload_dialplan()
        rig = FaultRig(hotline, sim, database_url, tmp)
        yield rig
        hotline = rig.hotline  # a test may have replaced it (restart)
    finally:
        if hotline is not None:
            await hotline.stop()
        await sim.stop()


async def finished_rows(sessions: async_sessionmaker[AsyncSession], count: int, timeout: float) -> list[Call]:
    """Wait until ``count`` calls are recorded as finished; every row of the table."""

    async def probe() -> list[Call] | None:
        try:
            async with sessions() as session:
                done = await session.scalar(select(func.count()).where(Call.disposition.is_not(None)))
                if (done or 0) < count:
                    return None
                return list((await session.scalars(select(Call))).all())
        except (OSError, Exception):  # PostgreSQL may be restarting
            return None

    return await eventually(probe, timeout, f"{count} finished calls in the calls table")


def compare(truth: Sequence[CallOutcome], rows: Sequence[Call]) -> list[str]:
    """Every difference between the simulator's ground truth and the calls table (empty: equal)."""
    problems: list[str] = []
    by_id: dict[str, list[Call]] = {}
    for row in rows:
        by_id.setdefault(row.linkedid, []).append(row)
    for lid, same in by_id.items():
        if len(same) > 1:
            problems.append(f"{lid}: recorded {len(same)} times")
    truth_ids = {t.linkedid for t in truth}
    for lid in by_id.keys() - truth_ids:
        problems.append(f"{lid}: recorded but never placed")
    for t in truth:
        found = by_id.get(t.linkedid)
        if not found:
            problems.append(f"{t.linkedid}: lost ({t.disposition})")
            continue
        row = found[0]
        want = {
            "disposition": t.disposition,
            "caller_number": t.caller_number,
            "dialled_number": t.dialled,
            "agent": t.agent,
        }
        if t.queue is not None:
            # queued: the IVR had finished, so the live model or, for calls wholly inside an AMI gap,
            # the CDR variables the dialplan set (hotline_language, hotline_menu_path) must have them
            want.update(queue=t.queue, language=t.language, menu_path=t.menu_path)
        for name, value in want.items():
            if getattr(row, name) != value:
                problems.append(f"{t.linkedid}: {name} {getattr(row, name)!r} != {value!r} (truth)")
        for name in ("wait_seconds", "talk_seconds"):
            expected, got = getattr(t, name), getattr(row, name)
            if expected is None or (
                name == "wait_seconds" and t.disposition not in ("answered", "abandoned", "queue-callback")
            ):
                continue
            if got is None or abs(got - expected) > TOLERANCE:
                problems.append(f"{t.linkedid}: {name} {got!r} != {expected:.2f} (truth)")
    return problems


async def all_finished(sim: PbxSimulator, count: int, timeout: float) -> list[CallOutcome]:
    async def probe() -> list[CallOutcome] | None:
        truth = sim.ground_truth()
        return truth if len(truth) >= count else None

    return await eventually(probe, timeout, f"{count} calls to end in the simulator")


async def calls_placed(gen: TrafficGenerator, count: int) -> None:
    """Wait until the traffic generator has placed ``count`` calls (the clock of a fault's window)."""

    async def probe() -> bool | None:
        return True if len(gen.calls) >= count else None

    await eventually(probe, 60, f"{count} calls placed")
