"""``/api/config``: apply (422 with every problem, nothing changed), history, diff, version text, rollback."""

from __future__ import annotations

from pathlib import Path

import httpx

from callcenter.app import Hotline
from callcenter.config.render import RENDERED_FILES
from tests.config_apply.support import example_text
from tests.config_apply.test_live_apply import version_b
from tests.web.conftest import logged_in

IM = example_text("inner-mongolia")


async def test_ops_apply_history_diff_and_rollback(
    service: Hotline, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    await logged_in(client, "ops")
    first = await client.post("/api/config/apply?name=config/hotline.yaml", content=IM.encode())
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["version"]["n"] == 1 and body["version"]["author"] == "ops" and body["version"]["serving"]
    assert sorted(body["files_written"]) == sorted(RENDERED_FILES)
    assert body["notes"] == ["no AMI link: Asterisk was not asked to reload"]
    header = (tmp_path / "asterisk" / "extensions.conf").read_text(encoding="utf-8").splitlines()[1]
    assert "config/hotline.yaml" in header

    again = await client.post("/api/config/apply", content=IM.encode())
    assert again.json()["unchanged"] is True and again.json()["version"] is None

    second = await client.post("/api/config/apply", content=version_b(IM).encode())
    assert second.status_code == 200 and second.json()["version"]["n"] == 2
    assert '+        "2": {queue: "{language}-rights"}' in second.json()["diff"]
    assert service.plan is not None and service.plan.queue("zh-rights") is not None

    history = (await client.get("/api/config/history")).json()
    assert [(v["n"], v["action"], v["serving"]) for v in history] == [(2, "apply", True), (1, "apply", False)]
    assert history[0]["lines_added"] == 6 and history[0]["lines_removed"] == 3

    diff = await client.get("/api/config/diff", params={"a": 1, "b": 2})
    assert diff.status_code == 200 and diff.text.startswith("--- version 1\n+++ version 2\n")
    assert (await client.get("/api/config/versions/1")).text == IM

    back = await client.post("/api/config/rollback/1")
    assert back.status_code == 200, back.text
    version = back.json()["version"]
    assert (version["n"], version["action"], version["rollback_of"], version["source"]) == (
        3,
        "rollback",
        1,
        "version 1",
    )
    assert service.plan.queue("zh-rights") is None
    assert "[zh-rights]" not in (tmp_path / "asterisk" / "queues.conf").read_text(encoding="utf-8")
    assert (await client.post("/api/config/rollback/99")).status_code == 404
    assert (await client.get("/api/config/diff", params={"a": 1, "b": 99})).status_code == 404


async def test_an_invalid_file_is_refused_with_every_problem_and_nothing_changes(
    service: Hotline, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    await logged_in(client, "adm")
    assert (await client.post("/api/config/apply", content=IM.encode())).status_code == 200
    serving = service.plan
    queues = (tmp_path / "asterisk" / "queues.conf").read_bytes()
    bad = IM.replace("  max_wait: 600\n", "  max_wait: soon\n", 1).replace("\nseats:\n", "\nseat:\n", 1)
    lines = bad.splitlines()

    response = await client.post("/api/config/apply?name=ops-edit.yaml", content=bad.encode())

    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == f"{len(body['problems'])} problem(s); nothing was changed"
    texts = [p["text"] for p in body["problems"]]
    wait_line = next(i for i, line in enumerate(lines) if "max_wait: soon" in line)
    seat_line = lines.index("seat:")
    assert any(
        t.startswith(f"ops-edit.yaml:{wait_line + 1}:{lines[wait_line].index('soon') + 1}: ") for t in texts
    )
    assert f"ops-edit.yaml:{seat_line + 1}:1: the file: unknown key 'seat' (did you mean 'seats'?)" in texts
    assert service.plan is serving
    assert (tmp_path / "asterisk" / "queues.conf").read_bytes() == queues
    assert [v["n"] for v in (await client.get("/api/config/history")).json()] == [1]

    not_utf8 = await client.post("/api/config/apply", content=b"\xff\xfe")
    assert not_utf8.status_code == 422
    assert not_utf8.json()["problems"][0]["text"] == "hotline.yaml:1:1: the file is not UTF-8 text"


async def test_agents_may_not_apply(service: Hotline, client: httpx.AsyncClient) -> None:
    await logged_in(client, "a1001")
    response = await client.post("/api/config/apply", content=IM.encode())
    assert response.status_code == 403
    assert (await client.get("/api/config/history")).status_code == 403


async def test_when_the_files_cannot_be_written_the_old_version_keeps_serving(
    service: Hotline, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    await logged_in(client, "ops")
    serving = service.plan
    (tmp_path / "asterisk").write_text("not a directory", encoding="utf-8")
    response = await client.post("/api/config/apply", content=IM.encode())
    assert response.status_code == 500
    assert response.json()["detail"].startswith(
        "stored but not applied: cannot write the Asterisk configuration"
    )
    assert service.plan is serving
    (version,) = (await client.get("/api/config/history")).json()
    assert version["applied_at"] is None and version["apply_note"].startswith("not applied: cannot write")
