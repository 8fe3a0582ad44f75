"""Prompts: what callers hear, placed where the rendered dialplan plays them from.

``Playback(zh/choose-service)`` makes Asterisk look for ``<sounds>/zh/choose-service.<ext>`` in the
formats it can play; we put three there: ``.wav`` (8 kHz mono 16-bit PCM), ``.ulaw`` and ``.alaw`` (raw
G.711, played to the trunk without transcoding). An upload is converted in a scratch directory beside the
target and checked; only a good conversion replaces the files in place (``os.replace``), so a corrupt
upload changes nothing.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from recordings.audio import AudioError, probe, to_asterisk

log = logging.getLogger(__name__)

UPLOAD_FORMATS = ("wav", "mp3", "m4a")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_PROMPT_SECONDS = 300.0
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
# espeak-ng voice per prompt set; Mongolian has no espeak-ng voice, and the YAML's Mongolian texts are
# Chinese placeholders until the studio recording exists, so every set is drafted in Mandarin.
DEFAULT_VOICE = "cmn"
VOICES: Mapping[str, str] = {"hotline": "cmn", "zh": "cmn", "mn": "cmn"}


class PromptError(Exception):
    """An upload or a draft could not become a prompt; nothing was replaced."""


@dataclass(frozen=True, slots=True)
class InstalledPrompt:
    prompt_set: str
    name: str
    files: tuple[Path, ...]
    duration: float


def check_name(prompt_set: str, name: str) -> None:
    for what, value in (("prompt set", prompt_set), ("prompt name", name)):
        if not NAME.match(value) or ".." in value:
            raise PromptError(f"{what} {value!r} may hold only letters, digits, '_', '.' and '-'")


def prompt_path(sounds_dir: Path, prompt_set: str, name: str) -> Path:
    return sounds_dir / prompt_set / f"{name}.wav"


def install_prompt(sounds_dir: Path, prompt_set: str, name: str, data: bytes, fmt: str) -> InstalledPrompt:
    """Convert an uploaded recording and put it in place; PromptError (nothing replaced) when it is not
    readable audio of the stated format."""
    check_name(prompt_set, name)
    fmt = fmt.lower().lstrip(".")
    if fmt not in UPLOAD_FORMATS:
        raise PromptError(f"prompt uploads must be one of {', '.join(UPLOAD_FORMATS)}, not {fmt!r}")
    if not data:
        raise PromptError("the upload is empty; nothing was replaced")
    if len(data) > MAX_UPLOAD_BYTES:
        raise PromptError(f"the upload is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    target = sounds_dir / prompt_set
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".upload-", dir=target) as tmp:
        scratch = Path(tmp)
        src = scratch / f"upload.{fmt}"
        src.write_bytes(data)
        try:
            source_info = probe(src)
            outs = to_asterisk(src, scratch, name)
            info = probe(outs["wav"])
        except AudioError as exc:
            raise PromptError(
                f"the upload is not a readable {fmt} recording ({exc}); nothing was replaced"
            ) from exc
        if (info.sample_rate, info.channels, info.sample_width) != (8000, 1, 2):
            raise PromptError(f"conversion gave {info}, not 8 kHz mono 16-bit; nothing was replaced")
        if source_info.duration > MAX_PROMPT_SECONDS:
            raise PromptError(f"a prompt may last at most {MAX_PROMPT_SECONDS:.0f} s")
        placed = []
        for out in outs.values():
            final = target / out.name
            os.replace(out, final)
            placed.append(final)
    log.info("prompt %s/%s installed (%.2f s)", prompt_set, name, info.duration)
    return InstalledPrompt(prompt_set, name, tuple(placed), info.duration)


def missing_prompts(prompts: Mapping[str, Mapping[str, str]], sounds_dir: Path) -> list[tuple[str, str]]:
    """(prompt set, name) of every prompt the YAML names that has no ``.wav`` in the sounds directory."""
    return [
        (prompt_set, name)
        for prompt_set in sorted(prompts)
        for name in sorted(prompts[prompt_set])
        if not prompt_path(sounds_dir, prompt_set, name).is_file()
    ]


def espeak_exe() -> str | None:
    return shutil.which("espeak-ng")


def synthesise(text: str, voice: str, out: Path) -> None:
    """espeak-ng → ``out`` (its own WAV, 22 kHz); PromptError when espeak-ng is missing or fails."""
    exe = espeak_exe()
    if exe is None:
        raise PromptError("espeak-ng is not installed (apt-get install espeak-ng)")
    done = subprocess.run(
        [exe, "-v", voice, "-s", "160", "-w", str(out), text], capture_output=True, timeout=60, check=False
    )
    if done.returncode != 0 or not out.is_file():
        raise PromptError(f"espeak-ng failed: {done.stderr.decode('utf-8', 'replace').strip()}")


def build_prompts(
    prompts: Mapping[str, Mapping[str, str]],
    sounds_dir: Path,
    *,
    force: bool = False,
    voices: Mapping[str, str] = VOICES,
) -> list[InstalledPrompt]:
    """Draft every prompt that has a text and no audio yet (all of them with ``force``) with espeak-ng."""
    wanted = (
        [(s, n) for s in sorted(prompts) for n in sorted(prompts[s])]
        if force
        else missing_prompts(prompts, sounds_dir)
    )
    built = []
    with tempfile.TemporaryDirectory(prefix="hotline-espeak-") as tmp:
        for prompt_set, name in wanted:
            text = prompts[prompt_set][name].strip()
            if not text:
                log.warning("prompt %s/%s has no text to synthesise", prompt_set, name)
                continue
            raw = Path(tmp) / f"{prompt_set}-{name}.wav"
            synthesise(text, voices.get(prompt_set, DEFAULT_VOICE), raw)
            built.append(install_prompt(sounds_dir, prompt_set, name, raw.read_bytes(), "wav"))
    return built
