"""End to end on the simulated PBX: sustained arrivals, concurrent calls, zero lost records, latencies.

The hotline (FastAGI IVR, AMI, live model, call writer, live hub) and the simulator run in one process on
real TCP and real PostgreSQL (an embedded server of the run's own). Callers arrive as a Poisson process at
``rate`` for ``duration`` seconds, choose from the menu, wait (most longer than the few agents can serve)
and hang up: ``rate`` × (menu + wait) calls are up at once.

- event → database: ``ended_at`` (the Hangup event's own Timestamp) to the commit of the row that records
  the call's end (measured around the writer's upsert);
- event → wallboard: the same Timestamp to the moment the hub has queued the ended call for a
  supervisor's page (a subscriber on the hub, as ``/ws`` is);
- FastAGI menu step latency (``ivr/session.py`` ``on_step_latency``): from a reply arriving to the next
  command sent, inside the service, while all of the above runs.

Baseline: the same traffic on the simulator alone with one raw AMI reader draining its events (no
service): the arrival rate and concurrency the generator and the PBX reach by themselves on this machine,
and the step latency of the same IVR when it is the only call (unloaded).
"""

from __future__ import annotations

import asyncio
import gc
import json
import resource
import shutil
import tempfile
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import callcenter.db.writer as writer_module
from callcenter.app import Hotline
from callcenter.auth.roles import Principal, Role
from callcenter.config.loader import load_plan
from callcenter.db.calls import upsert_calls
from callcenter.db.embedded import EmbeddedPostgres
from callcenter.settings import PROJECT_ROOT, AmiTarget, load_settings
from ivr.agi.server import FastAgiServer
from ivr.session import make_ivr_route
from pbxsim.endpoints import AgentBehaviour
from pbxsim.pbx import PbxSimulator
from pbxsim.traffic import TrafficGenerator, TrafficProfile

SECRET = "bench-secret"
PROFILE = TrafficProfile(
    digit_delay=(0.1, 0.4),
    patience=(16.0, 24.0),
    impatient_share=1.0,
    talk=(5.0, 15.0),
    caller_ends_share=1.0,
)


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 2)


class Peak:
    """Calls up at once, sampled."""

    def __init__(self, sim: PbxSimulator) -> None:
        self.sim = sim
        self.peak = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, len({ch.linkedid for ch in self.sim.rt.channels.values()}))
            await asyncio.sleep(0.2)

    def __enter__(self) -> Peak:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


def _sim(agi: str, **extra: Any) -> PbxSimulator:
    return PbxSimulator(
        PROJECT_ROOT / "asterisk-config",
        ami_port=0,
        ami_users={"hotline": SECRET},
        globals={"HOTLINE_AGI": agi},
        prompt_seconds=0.05,
        default_agent=AgentBehaviour(answer_after=0.5, talk_seconds=10.0),
        **extra,
    )


async def _drain_ami(port: int, stop: asyncio.Event) -> int:
    """The baseline's AMI client: log in, read and count events, nothing else."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"Action: Login\r\nUsername: hotline\r\nSecret: {SECRET}\r\n\r\n".encode())
    count = 0
    try:
        while not stop.is_set():
            data = await reader.read(65536)
            if not data:
                break
            count += data.count(b"\r\n\r\n")
    finally:
        writer.close()
    return count


async def baseline(rate: float, duration: float) -> dict[str, Any]:
    sim = _sim("agi://127.0.0.1:1/ivr", agi_connect_timeout=0.2)
    await sim.start()
    stop = asyncio.Event()
    drain = asyncio.create_task(_drain_ami(sim.ami_port, stop))
    try:
        gen = TrafficGenerator(sim, rate, duration=duration, seed=1, profile=PROFILE)
        with Peak(sim) as peak:
            t = time.monotonic()
            calls = await gen.run()
            elapsed = time.monotonic() - t
        return {"arrival_rate": len(calls) / elapsed, "peak_concurrent": peak.peak}
    finally:
        stop.set()
        await sim.stop()
        drain.cancel()
        await asyncio.gather(drain, return_exceptions=True)


async def unloaded_step_latency(plan_path: Path, calls: int = 20) -> list[float]:
    """The IVR alone: one caller at a time, no hotline around it."""
    plan = _quick(load_plan(plan_path))
    samples: list[float] = []
    server = FastAgiServer({"ivr": make_ivr_route(lambda: plan, on_step_latency=samples.append)}, port=0)
    await server.start()
    sim = _sim(f"agi://127.0.0.1:{server.port}/ivr")
    await sim.start()
    try:
        gen = TrafficGenerator(sim, 50.0, count=calls, seed=2, profile=replace(PROFILE, patience=(0.5, 1.0)))
        for _ in range(calls):
            placed = await sim.place_call(gen.script())
            await placed.wait_finished(30)
    finally:
        await sim.stop()
        await server.stop()
    return samples


def _quick(plan: Any) -> Any:
    menus = {name: replace(menu, timeout_seconds=1.0) for name, menu in plan.menus.items()}
    return replace(plan, menus=menus)


async def loaded(rate: float, duration: float, drain_timeout: float) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    pg = EmbeddedPostgres(tmp)
    pg.start()
    url = pg.create_database("bench")
    db_lat: list[float] = []
    wall_lat: list[float] = []
    steps: list[float] = []
    original_upsert = upsert_calls

    async def timed_upsert(session: Any, records: Any) -> None:
        await original_upsert(session, records)
        now = time.time()
        db_lat.extend(now - r.ended_at.timestamp() for r in records if r.disposition and r.ended_at)

    setattr(writer_module, "upsert_calls", timed_upsert)  # noqa: B010  (measure around the real write)
    settings = load_settings(database_url=url, data_dir=tmp, agi_port=0, ami_ping_interval=5.0)
    hotline = Hotline(settings, plan=_quick(load_plan(PROJECT_ROOT / "config" / "hotline.yaml")))
    sim: PbxSimulator | None = None
    try:
        await hotline.start()
        assert hotline.agi is not None and hotline.plan is not None
        plan = hotline.plan
        hotline.agi._routes["ivr"] = make_ivr_route(lambda: plan, on_step_latency=steps.append)
        sim = _sim(f"agi://127.0.0.1:{hotline.agi.port}/ivr")
        await sim.start()
        await hotline.connect_ami(
            AmiTarget(host="127.0.0.1", port=sim.ami_port, username="hotline", secret=SECRET)
        )
        assert hotline.ami is not None and hotline.desk is not None
        await hotline.ami.wait_connected(10)
        for agent in plan.agents:
            await hotline.desk.log_in(agent.extension)
        sub = hotline.hub.subscribe(
            Principal(0, "bench", "bench", frozenset({Role.SUPERVISOR})), frozenset({"call"})
        )

        async def wallboard() -> None:
            while True:
                text = await sub.queue.get()
                data = json.loads(text)["data"]
                if data.get("disposition") and data.get("ended_at"):
                    ended = datetime.fromisoformat(data["ended_at"]).timestamp()
                    wall_lat.append(time.time() - ended)

        board = asyncio.create_task(wallboard())
        gen = TrafficGenerator(sim, rate, duration=duration, seed=3, profile=PROFILE)
        gc.collect()
        with Peak(sim) as peak:
            t = time.monotonic()
            calls = await gen.run()
            elapsed = time.monotonic() - t
            await _all_ended(sim, len(calls), drain_timeout)
        truth = sim.ground_truth()
        assert hotline.writer is not None
        await hotline.writer.drained(60)
        from sqlalchemy import func, select

        from callcenter.db.models import Call

        assert hotline.db is not None
        async with hotline.db.sessions() as session:
            recorded = await session.scalar(
                select(func.count()).where(
                    Call.disposition.is_not(None), Call.linkedid.in_([t.linkedid for t in truth])
                )
            )
        board.cancel()
        return {
            "calls": len(calls),
            "ended": len(truth),
            "recorded": recorded,
            "lost": len(truth) - (recorded or 0),
            "arrival_rate": len(calls) / elapsed,
            "peak_concurrent": peak.peak,
            "db_latencies": db_lat,
            "wallboard_latencies": wall_lat,
            "step_latencies": steps,
        }
    finally:
        setattr(writer_module, "upsert_calls", original_upsert)  # noqa: B010
        await hotline.stop()
        if sim is not None:
            await sim.stop()
        pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)


async def _all_ended(sim: PbxSimulator, count: int, timeout: float) -> None:
    """Wait (at most ``timeout``) for every placed call to end; the figures say if some did not."""
    done = asyncio.Event()

    def check(_event: object) -> None:
        if len(sim.ground_truth()) >= count:
            done.set()

    remove = sim.add_listener(check)
    try:
        check(None)
        await asyncio.wait_for(done.wait(), timeout)
    except TimeoutError:
        pass
    finally:
        remove()


async def run_async(rate: float, duration: float, baseline_duration: float) -> list[dict[str, Any]]:
    base = await baseline(rate, baseline_duration)
    unloaded = await unloaded_step_latency(PROJECT_ROOT / "config" / "hotline.yaml")
    got = await loaded(rate, duration, drain_timeout=60)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    step_p99, base_p99 = percentile(got["step_latencies"], 99), percentile(unloaded, 99)
    return [
        {
            "name": "fastagi_menu_step",
            "samples": len(got["step_latencies"]),
            "p50_ms": _ms(percentile(got["step_latencies"], 50)),
            "p99_ms": _ms(step_p99),
            "baseline": "the same IVR with one caller at a time, no load",
            "baseline_p50_ms": _ms(percentile(unloaded, 50)),
            "baseline_p99_ms": _ms(base_p99),
            "ratio": round(step_p99 / base_p99, 2) if step_p99 and base_p99 else None,
            "target_p99_ms": 5.0,
            "ok": step_p99 is not None and step_p99 < 0.005,
        },
        {
            "name": "end_to_end",
            "offered_rate": rate,
            "duration_s": duration,
            "calls": got["calls"],
            "ended": got["ended"],
            "recorded": got["recorded"],
            "lost": got["lost"],
            "arrival_rate": round(got["arrival_rate"], 1),
            "peak_concurrent_calls": got["peak_concurrent"],
            "event_to_database_p99_ms": _ms(percentile(got["db_latencies"], 99)),
            "event_to_database_p50_ms": _ms(percentile(got["db_latencies"], 50)),
            "event_to_wallboard_p99_ms": _ms(percentile(got["wallboard_latencies"], 99)),
            "event_to_wallboard_p50_ms": _ms(percentile(got["wallboard_latencies"], 50)),
            "peak_memory_mb": round(peak_rss_mb, 1),
            "baseline": "the simulator alone (raw AMI reader, no service), same traffic",
            "baseline_arrival_rate": round(base["arrival_rate"], 1),
            "baseline_peak_concurrent_calls": base["peak_concurrent"],
            "ratio_arrival_rate": round(got["arrival_rate"] / base["arrival_rate"], 3),
            "ratio_concurrent": round(got["peak_concurrent"] / max(1, base["peak_concurrent"]), 3),
            "target_arrival_rate": 50,
            "target_concurrent_calls": 1000,
            "ok": got["arrival_rate"] >= 0.98 * 50
            and got["peak_concurrent"] >= 1000
            and got["lost"] == 0
            and got["ended"] == got["calls"],
        },
    ]


def run(rate: float = 50.0, duration: float = 60.0, baseline_duration: float = 20.0) -> list[dict[str, Any]]:
    return asyncio.run(run_async(rate, duration, baseline_duration))
