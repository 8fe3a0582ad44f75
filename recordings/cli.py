"""``hotline prompts build|missing`` and the prompt lines of ``hotline config check``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from callcenter.settings import Settings
from recordings.prompts import PromptError, build_prompts, espeak_exe, missing_prompts, prompt_path
from recordings.service import sounds_dir


def add_prompts_parser(sub: Any) -> None:
    prompts = sub.add_parser("prompts", help="prompt audio: draft missing prompts with espeak-ng")
    prompts_sub = prompts.add_subparsers(dest="prompts_command", metavar="SUBCOMMAND", required=True)
    for name, text in (
        ("build", "synthesise draft prompts from the YAML texts with espeak-ng (Mandarin, cmn)"),
        ("missing", "list the prompts the YAML names that have no audio yet"),
    ):
        cmd = prompts_sub.add_parser(name, help=text)
        cmd.add_argument("--config", type=Path, help="hotline.yaml (default: HOTLINE_CONFIG_FILE)")
        cmd.add_argument("--sounds", type=Path, help="sounds directory (default: HOTLINE_SOUNDS_DIR)")
        if name == "build":
            cmd.add_argument("--force", action="store_true", help="redo prompts that already have audio")


def prompts_command(settings: Settings, args: argparse.Namespace) -> int:
    from callcenter.config.loader import ConfigError, load_plan

    config = args.config or settings.config_file
    sounds = args.sounds or sounds_dir(settings)
    try:
        plan = load_plan(config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    if args.prompts_command == "missing":
        return 1 if report_missing_prompts(plan.prompts, sounds, out=sys.stdout) else 0
    if espeak_exe() is None:
        print("espeak-ng is not installed: apt-get install espeak-ng", file=sys.stderr)
        return 1
    try:
        built = build_prompts(plan.prompts, sounds, force=args.force)
    except PromptError as exc:
        print(f"prompts build: {exc}", file=sys.stderr)
        return 1
    for prompt in built:
        print(f"{prompt.prompt_set}/{prompt.name}: {prompt.duration:.2f} s (draft, espeak-ng)")
    print(f"{len(built)} draft prompt(s) written under {sounds}")
    return 0


def report_missing_prompts(
    prompts: Mapping[str, Mapping[str, str]], sounds: Path, *, out: Any = None
) -> list[tuple[str, str]]:
    """Print one line per prompt without audio (to stderr unless ``out``); returns them."""
    stream = out or sys.stderr
    missing = missing_prompts(prompts, sounds)
    for prompt_set, name in missing:
        path = prompt_path(sounds, prompt_set, name)
        print(f"missing prompt: {prompt_set}/{name} (no {path})", file=stream)
    if missing:
        print(
            f"{len(missing)} prompt(s) have no audio; `hotline prompts build` drafts them with espeak-ng",
            file=stream,
        )
    return missing
