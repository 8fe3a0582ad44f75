"""The audio the pipeline produces, read back: sample rate, channels, duration within 50 ms."""

from __future__ import annotations

from pathlib import Path

import pytest

from recordings.audio import AudioError, convert_for_storage, wav_info
from recordings.prompts import PromptError, install_prompt, missing_prompts
from tests.recordings.conftest import TOLERANCE, call_audio, encode, read_back, wav_header


@pytest.mark.parametrize("seconds", [0.05, 1.0, 7.33])
def test_the_simulator_writes_8khz_mono_16bit_audio_of_the_call_length(
    tmp_path: Path, seconds: float
) -> None:
    path = call_audio(tmp_path / "1700000000.1.wav", seconds)
    rate, channels, width, frames = wav_header(path)
    assert (rate, channels, width) == (8000, 1, 2)
    assert abs(frames / rate - seconds) <= TOLERANCE
    data = path.read_bytes()
    assert len(set(data[44:])) > 50  # not silence: speech-like bursts


@pytest.mark.parametrize(("fmt", "rate"), [("opus", 48000), ("mp3", 8000), ("wav", 8000)])
def test_storage_formats_keep_the_duration(tmp_path: Path, fmt: str, rate: int) -> None:
    src = call_audio(tmp_path / "call.wav", 12.4)
    dst = tmp_path / f"stored.{fmt}"
    convert_for_storage(src, dst, fmt, "24k")
    info = read_back(dst)
    assert info.channels == 1
    assert info.sample_rate == rate  # Opus always decodes at 48 kHz
    assert abs(info.duration - 12.4) <= TOLERANCE
    if fmt != "wav":
        assert dst.stat().st_size < src.stat().st_size / 3


def test_an_unknown_storage_format_is_refused(tmp_path: Path) -> None:
    src = call_audio(tmp_path / "call.wav", 0.5)
    with pytest.raises(AudioError, match="unknown storage format"):
        convert_for_storage(src, tmp_path / "x.flac", "flac", "24k")


@pytest.mark.parametrize(
    ("fmt", "codec"),
    [
        ("wav", ["-ar", "44100", "-ac", "2", "-c:a", "pcm_s16le"]),
        ("mp3", ["-ar", "44100", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "64k"]),
        ("m4a", ["-ar", "44100", "-ac", "2", "-c:a", "aac", "-b:a", "64k", "-f", "ipod"]),
    ],
)
def test_uploaded_prompts_become_8khz_mono_16bit_wav_ulaw_and_alaw(
    tmp_path: Path, fmt: str, codec: list[str]
) -> None:
    studio = encode(call_audio(tmp_path / "src.wav", 3.2), tmp_path / f"studio.{fmt}", *codec)
    sounds = tmp_path / "sounds"
    installed = install_prompt(sounds, "zh", "choose-service", studio.read_bytes(), fmt)
    wav = sounds / "zh" / "choose-service.wav"
    rate, channels, width, frames = wav_header(wav)
    assert (rate, channels, width) == (8000, 1, 2)
    assert abs(frames / rate - 3.2) <= TOLERANCE
    assert abs(installed.duration - 3.2) <= TOLERANCE
    for law in ("ulaw", "alaw"):  # raw G.711: one byte per 8 kHz sample
        raw = sounds / "zh" / f"choose-service.{law}"
        assert abs(raw.stat().st_size / 8000 - 3.2) <= TOLERANCE
        assert abs(read_back_raw(raw, law) - 3.2) <= TOLERANCE
    assert sorted(p.name for p in (sounds / "zh").iterdir()) == [
        "choose-service.alaw",
        "choose-service.ulaw",
        "choose-service.wav",
    ]


def read_back_raw(path: Path, law: str) -> float:
    wav = path.with_suffix(".check.wav")
    encode_args = ["-f", "mulaw" if law == "ulaw" else "alaw", "-ar", "8000", "-ac", "1", "-i", str(path)]
    from recordings.audio import run_ffmpeg

    run_ffmpeg([*encode_args, "-c:a", "pcm_s16le", str(wav)])
    info = wav_info(wav)
    wav.unlink()
    return info.duration


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" * 10, "wav"),
        (b"\xff\xfb\x90\x00" + b"\x00" * 50, "mp3"),
        (b"this is a text file, not audio\n" * 20, "m4a"),
        (b"", "wav"),
    ],
)
def test_a_corrupt_upload_is_refused_and_nothing_is_replaced(tmp_path: Path, data: bytes, fmt: str) -> None:
    sounds = tmp_path / "sounds"
    good = call_audio(tmp_path / "good.wav", 1.5)
    install_prompt(sounds, "mn", "invalid", good.read_bytes(), "wav")
    before = {p.name: p.read_bytes() for p in (sounds / "mn").iterdir()}
    with pytest.raises(PromptError, match="nothing was replaced"):
        install_prompt(sounds, "mn", "invalid", data, fmt)
    after = {p.name: p.read_bytes() for p in (sounds / "mn").iterdir()}
    assert after == before  # same files, same bytes, no scratch left behind


def test_prompt_names_cannot_leave_the_sounds_directory(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match="may hold only"):
        install_prompt(tmp_path, "..", "x", b"RIFF", "wav")
    with pytest.raises(PromptError, match="may hold only"):
        install_prompt(tmp_path, "zh", "../../etc/passwd", b"RIFF", "wav")
    with pytest.raises(PromptError, match="wav, mp3, m4a"):
        install_prompt(tmp_path, "zh", "ok", b"RIFF", "flac")


def test_missing_prompts_are_the_named_ones_without_a_wav(tmp_path: Path) -> None:
    prompts = {"zh": {"a": "甲", "b": "乙"}, "mn": {"a": "甲"}}
    install_prompt(tmp_path, "zh", "a", call_audio(tmp_path / "x.wav", 0.5).read_bytes(), "wav")
    assert missing_prompts(prompts, tmp_path) == [("mn", "a"), ("zh", "b")]


def test_the_simulated_mixmonitor_names_files_as_asterisk_does(tmp_path: Path) -> None:
    from pbxsim.recorder import Recorder

    recorder = Recorder(tmp_path)
    # app_queue appends ".<monitor-format>" even to a Linkedid that has a dot of its own
    assert recorder.path_for("1700000000.12", "wav") == tmp_path / "1700000000.12.wav"
    assert recorder.path_for("/abs/x.wav") == Path("/abs/x.wav")  # MixMonitor(): as given
    assert recorder.start("PJSIP/trunk-1", "1700000000.12", "wav") == tmp_path / "1700000000.12.wav"
    assert recorder.start("PJSIP/trunk-1", "other", "wav") is None  # one MixMonitor per channel here
    written = recorder.stop("PJSIP/trunk-1")
    assert written == tmp_path / "1700000000.12.wav" and written.is_file()
    assert wav_header(written)[:3] == (8000, 1, 2)
    assert recorder.stop("PJSIP/trunk-1") is None
    assert [p.name for p in tmp_path.iterdir()] == ["1700000000.12.wav"]  # no .part left
    assert Recorder(None).start("PJSIP/trunk-2", "x", "wav") is None  # no spool: nothing recorded
