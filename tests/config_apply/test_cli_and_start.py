"""``hotline config apply | history | diff | rollback`` against a running service (the CLI stores, the
service hears NOTIFY and swaps), and the version the service starts on."""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path

import pytest

from callcenter.app import Hotline
from callcenter.cli import _parser
from callcenter.cli import _service as cli_service
from callcenter.config.versions import list_versions
from callcenter.config.versions_cli import versions_command
from callcenter.settings import Settings
from tests.config_apply.support import EXAMPLES, example_text
from tests.config_apply.test_live_apply import version_b
from tests.integration.harness import eventually

IM = example_text("inner-mongolia")


async def _hotline(service: Hotline) -> Hotline:
    assert service.config is not None
    config = service.config

    async def listening() -> bool | None:
        return True if config.listening.is_set() else None

    await eventually(listening, 10, "the service to LISTEN for new versions")
    return service


async def test_cli_apply_is_served_by_the_running_service_without_a_restart(
    service: Hotline, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _hotline(service)
    first, second = tmp_path / "v1.yaml", tmp_path / "v2.yaml"
    first.write_text(IM, encoding="utf-8")
    second.write_text(version_b(IM), encoding="utf-8")

    def run(*argv: str) -> list[str]:
        return ["config", *argv]

    assert (
        await versions_command(settings, _parser().parse_args(run("apply", str(first), "--author", "ops-li")))
        == 0
    )
    assert (
        await versions_command(
            settings, _parser().parse_args(run("apply", str(second), "--author", "ops-li"))
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "stored as version 1 by ops-li" in out and "stored as version 2 by ops-li (+6 -3 lines)" in out
    assert "version 2 is serving since" in out
    assert service.plan is not None and service.plan.queue("zh-rights") is not None
    assert service.config is not None and service.config.version == 2
    assert "[zh-rights]" in (tmp_path / "asterisk" / "queues.conf").read_text(encoding="utf-8")

    assert await versions_command(settings, _parser().parse_args(run("apply", str(second)))) == 0
    assert "unchanged: version 2 already has this text" in capsys.readouterr().out

    assert await versions_command(settings, _parser().parse_args(run("diff", "1", "2"))) == 0
    diff = capsys.readouterr().out
    assert (
        diff.startswith("--- version 1\n+++ version 2\n")
        and '+        "2": {queue: "{language}-rights"}' in diff
    )

    assert (
        await versions_command(settings, _parser().parse_args(run("rollback", "1", "--author", "ops-li")))
        == 0
    )
    assert "stored as version 3 by ops-li" in capsys.readouterr().out
    assert service.plan.queue("zh-rights") is None and service.config.version == 3

    assert await versions_command(settings, _parser().parse_args(run("history"))) == 0
    history = capsys.readouterr().out.splitlines()
    assert len(history) == 4 and history[0].split()[:2] == ["N", "TIME"]
    assert history[1].split()[0] == "3" and "rollback to 1" in history[1]
    assert "+6 -3" in history[2] and str(second) in history[2]


async def test_cli_refuses_an_invalid_file_before_storing_anything(
    service: Hotline, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(IM.replace("\nseats:\n  base: 8\n", "\nseats:\n  base: 30\n", 1), encoding="utf-8")
    assert await versions_command(settings, _parser().parse_args(["config", "apply", str(bad)])) == 1
    err = capsys.readouterr().err
    line = IM.splitlines().index("  base: 8") + 1
    assert f"{bad}:{line}:9: " in err and "nothing was changed" in err
    assert service.db is not None and await list_versions(service.db.sessions) == []
    assert await versions_command(settings, _parser().parse_args(["config", "rollback", "7"])) == 1
    assert "there is no configuration version 7" in capsys.readouterr().err


async def test_the_service_starts_on_the_newest_stored_version(settings: Settings, database: object) -> None:
    shutil.copy(EXAMPLES["guangdong"], settings.config_file)
    hotline = Hotline(settings)
    await hotline.start()
    try:
        assert hotline.plan is not None and [lang.code for lang in hotline.plan.languages] == ["zh"]
        assert hotline.config is not None and hotline.config.version == 1
        assert hotline.db is not None
        (initial,) = await list_versions(hotline.db.sessions)
        assert (initial.action, initial.source, initial.applied_at is not None) == (
            "initial",
            str(settings.config_file),
            True,
        )
        await hotline.config.apply_text(IM, author="ops-li", source="config/hotline.yaml")
    finally:
        await hotline.stop()

    restarted = Hotline(settings)  # the file on disk is still Guangdong's: the applied version wins
    await restarted.start()
    try:
        assert restarted.plan is not None and [lang.code for lang in restarted.plan.languages] == ["zh", "mn"]
        assert restarted.config is not None and restarted.config.version == 2
    finally:
        await restarted.stop()


def test_a_port_another_program_holds_is_one_line_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        async def service() -> int:  # what serve/demo do first: listen for FastAGI
            await asyncio.start_server(lambda r, w: None, "127.0.0.1", port)
            return 0

        assert cli_service(service()) == 1
    err = capsys.readouterr().err
    assert f"('127.0.0.1', {port})" in err and "address already in use" in err
    assert "Traceback" not in err and "--agi-port" in err
