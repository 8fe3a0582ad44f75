"""``hotline prompts build`` (espeak-ng drafts) and the missing prompts of ``hotline config check``."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter.cli import main as cli_main
from callcenter.config.loader import load_plan
from callcenter.settings import PROJECT_ROOT
from tests.recordings.conftest import wav_header

CONFIG = PROJECT_ROOT / "config" / "hotline.yaml"


def test_config_check_lists_missing_prompts_and_prompts_build_drafts_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], espeak: str
) -> None:
    sounds = tmp_path / "sounds"
    plan = load_plan(CONFIG)
    names = sum(len(texts) for texts in plan.prompts.values())

    assert cli_main(["config", "check", str(CONFIG), "--sounds", str(sounds)]) == 0
    err = capsys.readouterr().err
    assert f"missing prompt: zh/choose-service (no {sounds / 'zh' / 'choose-service.wav'})" in err
    assert f"{names} prompt(s) have no audio" in err

    assert cli_main(["prompts", "build", "--config", str(CONFIG), "--sounds", str(sounds)]) == 0
    out = capsys.readouterr().out
    assert f"{names} draft prompt(s) written" in out
    for prompt_set, texts in plan.prompts.items():
        for name in texts:
            rate, channels, width, frames = wav_header(sounds / prompt_set / f"{name}.wav")
            assert (rate, channels, width) == (8000, 1, 2)
            assert frames > 8000 * 0.5  # a spoken sentence, not silence
            assert (sounds / prompt_set / f"{name}.ulaw").stat().st_size == frames
            assert (sounds / prompt_set / f"{name}.alaw").stat().st_size == frames

    assert cli_main(["config", "check", str(CONFIG), "--sounds", str(sounds)]) == 0
    assert "missing prompt" not in capsys.readouterr().err
    assert cli_main(["prompts", "missing", "--config", str(CONFIG), "--sounds", str(sounds)]) == 0
    # a second build does nothing (studio recordings are never overwritten without --force)
    assert cli_main(["prompts", "build", "--config", str(CONFIG), "--sounds", str(sounds)]) == 0
    assert "0 draft prompt(s) written" in capsys.readouterr().out
