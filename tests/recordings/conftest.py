"""Fixtures of the recordings tests: synthetic call audio, espeak-ng, and the web fixtures of tests/web."""

from __future__ import annotations

import os
import shutil
import subprocess
import wave
from pathlib import Path

import pytest

from pbxsim.recorder import Recorder
from recordings.audio import AudioInfo, probe, run_ffmpeg
from tests.web.conftest import app, client, hotline  # noqa: F401  (the started service and its HTTP client)

TOLERANCE = 0.05  # seconds: "duration within 50 ms"


def call_audio(path: Path, seconds: float) -> Path:
    """What MixMonitor leaves for a call of ``seconds``: the simulator's 8 kHz mono 16-bit WAV."""
    Recorder(path.parent).write(path, seconds)
    return path


def encode(src: Path, dst: Path, *codec: str) -> Path:
    run_ffmpeg(["-i", str(src), *codec, str(dst)])
    return dst


def read_back(path: Path) -> AudioInfo:
    """Decode a produced file with ffmpeg and measure it (sample rate, channels, duration)."""
    return probe(path)


def wav_header(path: Path) -> tuple[int, int, int, int]:
    with wave.open(str(path), "rb") as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()


@pytest.fixture(scope="session")
def espeak() -> str:
    """espeak-ng, installed with apt-get when missing and we may (CI runs as root from a fresh clone)."""
    found = shutil.which("espeak-ng")
    if found is None and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "espeak-ng"], check=False, capture_output=True, timeout=600
        )
        found = shutil.which("espeak-ng")
    if found is None:
        pytest.skip("espeak-ng is not installed and cannot be installed here")
    return found


def read(path: Path | str) -> bytes:
    """File bytes (a plain function: tests are async and ruff keeps blocking Path calls out of them)."""
    return Path(path).read_bytes()


def exists(path: Path | str) -> bool:
    return Path(path).exists()


def size(path: Path | str) -> int:
    return Path(path).stat().st_size
