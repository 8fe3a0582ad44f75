"""`python -m pbxsim`: run the simulated PBX (and optional random traffic) until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from pbxsim.endpoints import AgentBehaviour
from pbxsim.pbx import PbxSimulator
from pbxsim.traffic import TrafficGenerator


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pbxsim", description="Simulated Asterisk (AMI server, FastAGI client)"
    )
    parser.add_argument("--ami-host", default="127.0.0.1")
    parser.add_argument("--ami-port", type=int, default=5038)
    parser.add_argument(
        "--ami-user",
        action="append",
        default=[],
        metavar="USER:SECRET",
        help="AMI account (repeatable); default hotline:secret",
    )
    parser.add_argument(
        "--agi", default=None, help="FastAGI URL for HOTLINE_AGI, e.g. agi://127.0.0.1:4573/ivr"
    )
    parser.add_argument("--config-dir", type=Path, default=Path("asterisk-config"))
    parser.add_argument("--calls-per-minute", type=float, default=0.0, help="random inbound calls (0: none)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prompt-seconds", type=float, default=0.2)
    parser.add_argument("--answer-after", type=float, default=3.0, help="default agent answer delay (s)")
    parser.add_argument("--talk-seconds", type=float, default=60.0, help="default agent talk time (s)")
    parser.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument(
        "--monitor-dir", type=Path, default=None, help="MixMonitor spool: write a recording per answered call"
    )
    parser.add_argument(
        "--sounds-dir", type=Path, default=None, help="Asterisk's sounds (the prompts): language variants"
    )
    return parser


async def run(args: argparse.Namespace) -> int:
    users: dict[str, str] = {}
    for item in args.ami_user or ["hotline:secret"]:
        user, _, secret = item.partition(":")
        users[user] = secret
    sim = PbxSimulator(
        args.config_dir,
        ami_host=args.ami_host,
        ami_port=args.ami_port,
        ami_users=users,
        globals={"HOTLINE_AGI": args.agi} if args.agi else None,
        seed=args.seed,
        prompt_seconds=args.prompt_seconds,
        default_agent=AgentBehaviour(answer_after=args.answer_after, talk_seconds=args.talk_seconds),
        monitor_dir=args.monitor_dir,
        sounds_dir=args.sounds_dir,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with sim:
        print(f"pbxsim: AMI listening on {args.ami_host}:{sim.ami_port}", flush=True)
        traffic: asyncio.Task[object] | None = None
        gen: TrafficGenerator | None = None
        if args.calls_per_minute > 0:
            gen = TrafficGenerator(sim, args.calls_per_minute / 60.0, seed=args.seed)
            traffic = loop.create_task(gen.run(), name="pbxsim-traffic")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), args.duration)
        if gen is not None and traffic is not None:
            gen.stop()
            await traffic
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        logging.getLogger("pbxsim").error("cannot start: %s", exc)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
