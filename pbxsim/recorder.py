"""MixMonitor as the simulator does it: a real audio file per recorded call.

Asterisk's MixMonitor writes the mixed audio of a channel while it is bridged (app_queue starts it with
option ``b`` when a queue has ``monitor-format``); the file is named by ``MONITOR_FILENAME`` or by the
caller's Uniqueid, relative names land in the monitor spool directory. The simulator has no audio, so
when the recording stops it writes synthetic speech-like audio of the recorded length: voiced bursts
(a few harmonics of a wandering pitch under a syllable envelope), short noise bursts and pauses,
8 kHz mono 16-bit PCM in a WAV file (``wav`` format; ``gsm``/``ulaw`` are written as WAV too).
The file appears atomically (written beside, then renamed), so a reader never sees half a file.
Stdlib only.
"""

from __future__ import annotations

import logging
import math
import os
import random
import struct
import time
import wave
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

RATE = 8000
SEGMENT_SECONDS = 0.2
SEGMENTS = 12


@dataclass
class Active:
    path: Path
    started: float


def _segments(seed: int) -> list[bytes]:
    """A small bank of 200 ms pieces: voiced syllables, noise bursts and near-silence."""
    rng = random.Random(seed)
    n = int(RATE * SEGMENT_SECONDS)
    out: list[bytes] = []
    for i in range(SEGMENTS):
        kind = i % 4
        samples: list[int] = []
        if kind in (0, 1):  # voiced: harmonics of f0 under a raised-cosine envelope
            f0 = rng.uniform(110.0, 230.0)
            amps = [0.5, 0.3, 0.15, 0.08]
            for t in range(n):
                env = 0.5 - 0.5 * math.cos(2 * math.pi * t / n)
                x = sum(a * math.sin(2 * math.pi * f0 * (k + 1) * t / RATE) for k, a in enumerate(amps))
                samples.append(int(9000 * env * x))
        elif kind == 2:  # fricative-like noise burst, low-passed by a moving average
            prev = 0.0
            for t in range(n):
                env = 0.5 - 0.5 * math.cos(2 * math.pi * t / n)
                prev = 0.6 * prev + 0.4 * rng.uniform(-1.0, 1.0)
                samples.append(int(4000 * env * prev))
        else:  # pause: room noise
            samples = [int(rng.uniform(-60.0, 60.0)) for _ in range(n)]
        out.append(struct.pack(f"<{n}h", *samples))
    return out


class Recorder:
    """Recordings in progress, keyed by channel name. ``monitor_dir`` None: recordings are not written."""

    def __init__(self, monitor_dir: Path | None = None, *, seed: int = 0) -> None:
        self.monitor_dir = monitor_dir
        self._active: dict[str, Active] = {}
        self._bank: list[bytes] | None = None
        self._rng = random.Random(seed)
        self._seed = seed
        self.written: list[Path] = []

    def path_for(self, filename: str, fmt: str | None = None) -> Path | None:
        """Relative names land in the spool. app_queue always appends ``.<monitor-format>`` (a Linkedid
        such as ``1700000000.12`` has a dot of its own); MixMonitor() takes the name as given."""
        if self.monitor_dir is None or not filename:
            return None
        path = Path(filename)
        if not path.is_absolute():
            path = self.monitor_dir / path
        return path.with_name(f"{path.name}.{fmt.lower().lstrip('.')}") if fmt else path

    def start(self, channel: str, filename: str, fmt: str | None = None) -> Path | None:
        """Start recording ``channel`` (a second start on the same channel is ignored, as in Asterisk)."""
        path = self.path_for(filename, fmt)
        if path is None or channel in self._active:
            return None
        self._active[channel] = Active(path, time.monotonic())
        return path

    def recording(self, channel: str) -> bool:
        return channel in self._active

    def stop(self, channel: str) -> Path | None:
        """Stop recording ``channel`` and write its file; None when it was not recording."""
        active = self._active.pop(channel, None)
        if active is None:
            return None
        seconds = max(time.monotonic() - active.started, 0.0)
        try:
            self.write(active.path, seconds)
        except OSError as exc:
            log.error("pbxsim: could not write recording %s: %s", active.path, exc)
            return None
        self.written.append(active.path)
        return active.path

    def write(self, path: Path, seconds: float) -> None:
        if self._bank is None:
            self._bank = _segments(self._seed)
        frames = round(seconds * RATE)
        chunk = len(self._bank[0]) // 2
        pieces: list[bytes] = []
        left = frames
        while left > 0:
            piece = self._bank[self._rng.randrange(len(self._bank))]
            take = min(left, chunk)
            pieces.append(piece[: take * 2])
            left -= take
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f".{path.name}.part")
        with wave.open(str(part), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes(b"".join(pieces))
        os.replace(part, path)
