"""Routing quality: a day shaped like the seeds through the simulated PBX, for three seat strategies.

820 calls over 12 h (a 3x surge for 2 h: 51.25 calls/h normally, 153.75 during the surge), talk ~4.2 min
(exponential), callers' patience exponential (mean ``--patience`` s), run at a time compression factor
(``--compression``: 240 makes the 12 h day 3 minutes). For

- fixed 8 seats, fixed 20 seats, and the overflow controller (8 base, up to 20; the YAML's thresholds,
  compressed like everything else),

it prints the service level (answered within 20 s, ICMI formula #4 as ``routing.kpi``), the abandon rate
and the seat-hours, then the Erlang C minimum seat-hours for the same arrivals (per 15 min interval the
fewest seats predicting 80 % within 20 s) and the ratio controller / minimum.

Run: ``python -m benchmarks.routing_quality [--compression 240] [--hours 12]``. Not part of ``make test``.
Every figure is in simulated (uncompressed) seconds; the same seed gives the same arrivals in each run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from callcenter.app import Hotline
from callcenter.config.loader import load_plan
from callcenter.overflow.controller import policy_for_plan
from callcenter.settings import PROJECT_ROOT, AmiTarget, load_settings
from pbxsim.endpoints import AgentBehaviour
from pbxsim.pbx import PbxSimulator
from pbxsim.scripts import CallerScript, PlacedCall
from routing.kpi import CallFact, CallOutcome, abandon_rate, service_level
from routing.overflow import OverflowPolicy, seats_for_service_level
from routing.plan import AgentPlan, HotlinePlan, QueuePlan, SeatPlan

SECRET = "bench-secret"
CALLS_PER_DAY = 820
TALK_MEAN = 252.0  # 4.2 min
WRAPUP = 10.0
ANSWER_AFTER = 3.0  # the agent picks up after 3 s of ringing
SURGE_START_HOUR, SURGE_HOURS, SURGE_FACTOR = 2.0, 2.0, 3.0
QUEUE = "bench"
AGENTS = 20


@dataclass(frozen=True)
class Arrival:
    at: float  # simulated seconds from the start of the day
    talk: float
    patience: float


@dataclass
class Result:
    name: str
    offered: int
    answered: int
    abandoned: int
    service_level: float | None
    abandon_rate: float | None
    seat_hours: float


def arrivals(hours: float, seed: int, patience_mean: float) -> list[Arrival]:
    """Poisson arrivals at the seeds' rates (thinning), talk and patience exponential."""
    rng = random.Random(seed)
    normal = CALLS_PER_DAY / (12 + SURGE_HOURS * (SURGE_FACTOR - 1)) / 3600  # per second
    peak = normal * SURGE_FACTOR
    out: list[Arrival] = []
    t = 0.0
    while True:
        t += rng.expovariate(peak)
        if t >= hours * 3600:
            return out
        in_surge = SURGE_START_HOUR * 3600 <= t < (SURGE_START_HOUR + SURGE_HOURS) * 3600
        if in_surge or rng.random() < normal / peak:
            out.append(Arrival(t, rng.expovariate(1 / TALK_MEAN), rng.expovariate(1 / patience_mean)))


def erlang_minimum_seat_hours(calls: list[Arrival], hours: float, interval: float = 900.0) -> float:
    """Sum over intervals of the fewest seats reaching 80 % within 20 s (Erlang C), in seat-hours."""
    total = 0.0
    start = 0.0
    while start < hours * 3600:
        n = sum(1 for c in calls if start <= c.at < start + interval)
        seats = seats_for_service_level(n / interval, TALK_MEAN + WRAPUP, 0.8, 20.0, at_least=1, at_most=200)
        total += (seats or 200) * interval / 3600
        start += interval
    return total


def _config(directory: Path, k: float) -> Path:
    """A dialplan straight into one queue (no IVR: its prompts are not what is measured) and the queue with
    its times compressed."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "extensions.conf").write_text(
        "[general]\nstatic=yes\n\n[bench]\n"
        f"exten => 12355,1,Answer()\n same => n,Set(HOTLINE_QUEUE={QUEUE})\n"
        f" same => n,Queue({QUEUE},t,,,{36000 / k:.4f})\n same => n,Hangup()\n",
        encoding="utf-8",
    )
    (directory / "queues.conf").write_text(
        "[general]\npersistentmembers = no\nautofill = yes\nshared_lastcall = yes\n\n"
        f"[{QUEUE}]\nstrategy = rrmemory\ntimeout = {15 / k:.4f}\nretry = {1 / k:.4f}\n"
        f"wrapuptime = {WRAPUP / k:.4f}\nringinuse = no\njoinempty = yes\nleavewhenempty = no\n",
        encoding="utf-8",
    )
    return directory


def _plan(base: HotlinePlan, seats: SeatPlan) -> HotlinePlan:
    agents = tuple(AgentPlan(f"{4000 + i}", f"seat {i + 1}", ("bench",), ("zh",)) for i in range(AGENTS))
    queue = QueuePlan(QUEUE, "bench", "zh")
    return replace(base, agents=agents, queues=(*base.queues, queue), seats=seats)


def _scaled(policy: OverflowPolicy, k: float) -> OverflowPolicy:
    seconds = (
        "open_longest_wait_seconds",
        "longest_wait_step_seconds",
        "answer_within_seconds",
        "aht_seconds",
        "close_longest_wait_seconds",
        "low_load_seconds",
        "min_open_seconds",
        "open_cooldown_seconds",
    )
    return replace(policy, **{name: getattr(policy, name) / k for name in seconds})


async def run_scenario(
    name: str, base_seats: int, max_seats: int, calls: list[Arrival], k: float, hours: float, work: Path
) -> Result:
    base_plan = load_plan(PROJECT_ROOT / "config" / "hotline.yaml")
    plan = _plan(base_plan, SeatPlan(base=base_seats, maximum=max_seats, overflow=base_plan.seats.overflow))
    settings = load_settings(database_url=None, data_dir=work / "data", agi_port=0, ami_ping_interval=5.0)
    hotline = Hotline(settings, plan=plan)
    await hotline.start()
    sim = PbxSimulator(
        _config(work / name, k),
        ami_port=0,
        ami_users={"hotline": SECRET},
        inbound_context="bench",
        default_agent=AgentBehaviour(answer_after=ANSWER_AFTER / k, talk_seconds=1e9),
    )
    try:
        await sim.start()
        await hotline.connect_ami(
            AmiTarget(host="127.0.0.1", port=sim.ami_port, username="hotline", secret=SECRET)
        )
        assert hotline.ami is not None
        await hotline.ami.wait_connected(10)
        policy = _scaled(policy_for_plan(plan), k)
        hotline.start_overflow(policy, interval=max(0.02, 5 / k), window_seconds=900 / k)
        ctl = hotline.overflow
        assert ctl is not None
        loop = asyncio.get_running_loop()
        start = loop.time()
        day_over = asyncio.Event()
        seat_seconds = 0.0

        async def integrate_seats() -> None:
            nonlocal seat_seconds
            last = loop.time()
            while not day_over.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(day_over.wait(), 0.02)
                now = loop.time()
                seat_seconds += (ctl.last.active_seats if ctl.last else 0) * (now - last)
                last = now

        sampler = asyncio.create_task(integrate_seats())
        placed: list[PlacedCall] = []
        for i, call in enumerate(calls):
            await asyncio.sleep(max(0.0, start + call.at / k - loop.time()))
            script = CallerScript(
                number=f"139{i:08d}", hangup_after=call.patience / k, hangup_after_answer=call.talk / k
            )
            placed.append(await sim.place_call(script))
        await asyncio.sleep(max(0.0, start + hours * 3600 / k - loop.time()))
        day_over.set()
        await sampler
        outcomes = [await p.wait_finished(3600 / k + 60) for p in placed]
    finally:
        await sim.stop()
        try:
            await asyncio.wait_for(hotline.stop(), 60)
        except TimeoutError:  # a task of the service that swallows its cancellation: say so, go on
            print(f"{name}: the service did not stop within 60 s", file=sys.stderr)
    facts = []
    for o in outcomes:
        wait = (o.wait_seconds or 0.0) * k
        if o.disposition == "answered":
            facts.append(CallFact(CallOutcome.ANSWERED, wait, (o.talk_seconds or 0.0) * k))
        elif o.disposition == "abandoned":
            facts.append(CallFact(CallOutcome.ABANDONED, wait))
        else:
            facts.append(CallFact(CallOutcome.TIMED_OUT, wait))
    return Result(
        name,
        len(facts),
        sum(f.outcome is CallOutcome.ANSWERED for f in facts),
        sum(f.outcome is CallOutcome.ABANDONED for f in facts),
        service_level(facts),
        abandon_rate(facts),
        seat_seconds * k / 3600,
    )


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:6.1%}"


def _dump_tasks() -> None:
    for task in asyncio.all_tasks():
        task.print_stack(file=sys.stderr)


async def main_async(args: argparse.Namespace) -> dict[str, object]:
    # kill -USR1 <pid>: where every task is (a long run that seems stuck)
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, _dump_tasks)
    calls = arrivals(args.hours, args.seed, args.patience)
    minimum = erlang_minimum_seat_hours(calls, args.hours)
    results = []
    with tempfile.TemporaryDirectory(prefix="routing-bench-") as tmp:
        for name, base, most in (("fixed 8", 8, 8), ("fixed 20", 20, 20), ("controller 8-20", 8, 20)):
            if args.only and name not in args.only:
                continue
            began = time.monotonic()
            result = await run_scenario(
                name, base, most, calls, args.compression, args.hours, Path(tmp) / name.replace(" ", "-")
            )
            results.append(result)
            print(
                f"{name:16} offered {result.offered:4d}  answered {result.answered:4d}  "
                f"SL(20 s) {_pct(result.service_level)}  abandoned {_pct(result.abandon_rate)}  "
                f"seat-hours {result.seat_hours:6.1f}   ({time.monotonic() - began:.0f} s wall)",
                flush=True,
            )
    print(f"{'Erlang C minimum':16} seat-hours {minimum:6.1f} (80 % within 20 s, per 15 min)")
    controller = next((r for r in results if r.name.startswith("controller")), None)
    if controller is not None and minimum > 0:
        print(f"controller / minimum seat-hours: {controller.seat_hours / minimum:.2f}")
    return {
        "calls": len(calls),
        "compression": args.compression,
        "erlang_c_minimum_seat_hours": minimum,
        "scenarios": [vars(r) for r in results],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--compression", type=float, default=240.0)
    parser.add_argument("--hours", type=float, default=12.0)
    parser.add_argument("--seed", type=int, default=12355)
    parser.add_argument("--patience", type=float, default=180.0, help="mean caller patience, seconds")
    parser.add_argument("--only", action="append", help="run only this scenario (repeatable)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    figures = asyncio.run(main_async(args))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
