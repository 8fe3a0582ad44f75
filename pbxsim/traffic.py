"""Seeded random callers: Poisson arrivals, menu digits, patience and talk times (demo, benchmarks)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass

from pbxsim.pbx import PbxSimulator
from pbxsim.scripts import CallerScript, PlacedCall


@dataclass(frozen=True)
class TrafficProfile:
    """The shape of the generated calls. Ranges are (low, high) for a uniform draw."""

    dialled: str = "12355"
    menu: Sequence[Sequence[str]] = (("1", "2"), ("1", "2", "3", "4", "5"))  # one digit per level
    digit_delay: tuple[float, float] = (0.5, 2.0)
    patience: tuple[float, float] = (20.0, 240.0)
    impatient_share: float = 0.3  # callers who give up after `patience`; the others wait for ever
    talk: tuple[float, float] = (30.0, 400.0)
    caller_ends_share: float = 0.5  # calls the caller ends (after `talk`); the agent ends the others


class TrafficGenerator:
    def __init__(
        self,
        sim: PbxSimulator,
        rate_per_second: float,
        *,
        count: int | None = None,
        duration: float | None = None,
        seed: int = 0,
        profile: TrafficProfile | None = None,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        self.sim = sim
        self.rate = rate_per_second
        self.count = count
        self.duration = duration
        self.rng = random.Random(seed)
        self.profile = profile or TrafficProfile()
        self.calls: list[PlacedCall] = []
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    def script(self) -> CallerScript:
        p, rng = self.profile, self.rng
        digits = [(rng.uniform(*p.digit_delay), rng.choice(list(level))) for level in p.menu]
        patience = rng.uniform(*p.patience) if rng.random() < p.impatient_share else None
        talk = rng.uniform(*p.talk) if rng.random() < p.caller_ends_share else None
        number = "1" + "".join(str(rng.randrange(10)) for _ in range(10))
        return CallerScript(
            number=number, dialled=p.dialled, digits=digits, hangup_after=patience, hangup_after_answer=talk
        )

    async def run(self) -> list[PlacedCall]:
        """Place calls until `count` calls, `duration` seconds, or stop(). Returns the placed calls."""
        loop = asyncio.get_running_loop()
        end = None if self.duration is None else loop.time() + self.duration
        next_at = loop.time()
        while not self._stop.is_set():
            if self.count is not None and len(self.calls) >= self.count:
                break
            next_at += self.rng.expovariate(self.rate)
            if end is not None and next_at > end:
                break
            delay = next_at - loop.time()
            if delay > 0:
                try:
                    await asyncio.wait_for(self._stop.wait(), delay)
                    break
                except TimeoutError:
                    pass
            self.calls.append(await self.sim.place_call(self.script()))
        return self.calls


async def run_traffic(
    sim: PbxSimulator,
    rate_per_second: float,
    duration_or_count: float | int,
    seed: int = 0,
    *,
    profile: TrafficProfile | None = None,
) -> list[PlacedCall]:
    """An int is a number of calls, a float a duration in seconds."""
    if isinstance(duration_or_count, int):
        gen = TrafficGenerator(sim, rate_per_second, count=duration_or_count, seed=seed, profile=profile)
    else:
        gen = TrafficGenerator(sim, rate_per_second, duration=duration_or_count, seed=seed, profile=profile)
    return await gen.run()
