"""ffmpeg, called directly: decode, measure and convert audio files. Synchronous; the service runs these
in a worker thread (``asyncio.to_thread``)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from functools import cache
from pathlib import Path

FFMPEG_TIMEOUT = 120.0

# Storage formats of recordings: file extension and ffmpeg encoder arguments (the bitrate is added).
STORAGE_FORMATS: dict[str, tuple[str, list[str]]] = {
    "opus": ("opus", ["-c:a", "libopus", "-application", "voip", "-f", "ogg"]),
    "mp3": ("mp3", ["-c:a", "libmp3lame", "-f", "mp3"]),
    "wav": ("wav", ["-c:a", "pcm_s16le", "-f", "wav"]),
}


class AudioError(Exception):
    """The input is not audio ffmpeg can read, or a conversion failed."""


@dataclass(frozen=True, slots=True)
class AudioInfo:
    sample_rate: int
    channels: int
    sample_width: int  # bytes per sample
    frames: int

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


@cache
def ffmpeg_exe() -> str:
    """The system's ffmpeg when there is one, else the binary of the imageio-ffmpeg wheel."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    exe: str = imageio_ffmpeg.get_ffmpeg_exe()
    return exe


def run_ffmpeg(args: list[str], *, stdin: bytes | None = None) -> bytes:
    """Run ffmpeg; its last error line becomes the AudioError's message."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y", *args]
    try:
        done = subprocess.run(cmd, input=stdin, capture_output=True, timeout=FFMPEG_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise AudioError(f"ffmpeg took longer than {FFMPEG_TIMEOUT:.0f} s") from exc
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
        raise AudioError(lines[-1].strip() if lines else f"ffmpeg exited with {done.returncode}")
    return done.stdout


def wav_info(path: Path) -> AudioInfo:
    """Header of a PCM WAV file (the stdlib reader)."""
    try:
        with wave.open(str(path), "rb") as w:
            return AudioInfo(w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes())
    except (wave.Error, EOFError) as exc:
        raise AudioError(f"not a PCM WAV file: {exc}") from exc


def probe(path: Path) -> AudioInfo:
    """Decode the whole file (any format ffmpeg reads) to 16-bit PCM and measure it: the decoded length is
    the duration a listener hears (encoder delay and padding removed), not a header's claim."""
    with tempfile.TemporaryDirectory(prefix="hotline-probe-") as tmp:
        out = Path(tmp) / "decoded.wav"
        run_ffmpeg(["-i", str(path), "-map", "0:a:0", "-c:a", "pcm_s16le", "-f", "wav", str(out)])
        info = wav_info(out)
    if info.frames == 0:
        raise AudioError("no audio in the file")
    return info


def convert_for_storage(src: Path, dst: Path, fmt: str, bitrate: str) -> None:
    """Encode ``src`` into ``dst`` (mono) in a storage format (``STORAGE_FORMATS``)."""
    if fmt not in STORAGE_FORMATS:
        raise AudioError(f"unknown storage format {fmt!r}; known: {', '.join(STORAGE_FORMATS)}")
    _, codec = STORAGE_FORMATS[fmt]
    rate = [] if fmt == "wav" else ["-b:a", bitrate]
    run_ffmpeg(["-i", str(src), "-map", "0:a:0", "-ac", "1", *codec, *rate, str(dst)])


def to_asterisk(src: Path, out_dir: Path, stem: str) -> dict[str, Path]:
    """``src`` → ``<stem>.wav`` (8 kHz mono 16-bit PCM), ``<stem>.ulaw`` and ``<stem>.alaw`` (raw G.711) in
    ``out_dir``: the formats Asterisk plays without transcoding."""
    outs = {
        "wav": out_dir / f"{stem}.wav",
        "ulaw": out_dir / f"{stem}.ulaw",
        "alaw": out_dir / f"{stem}.alaw",
    }
    common = ["-map", "0:a:0", "-ar", "8000", "-ac", "1"]
    run_ffmpeg(
        [
            "-i",
            str(src),
            *common,
            "-c:a",
            "pcm_s16le",
            "-f",
            "wav",
            "-bitexact",
            str(outs["wav"]),
            *common,
            "-c:a",
            "pcm_mulaw",
            "-f",
            "mulaw",
            str(outs["ulaw"]),
            *common,
            "-c:a",
            "pcm_alaw",
            "-f",
            "alaw",
            str(outs["alaw"]),
        ]
    )
    return outs
