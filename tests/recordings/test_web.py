"""Recordings and prompts over HTTP: who may listen (per role), Range, the audit log, prompt uploads."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from callcenter.app import Hotline
from callcenter.db.calls import upsert_calls
from callcenter.records import CallRecord, Disposition
from recordings.models import Recording
from tests.recordings.conftest import TOLERANCE, call_audio, encode, read, wav_header
from tests.web.conftest import logged_in

LINKEDID = "1800000000.7"


async def stored_recording(hotline: Hotline, *, agent: str = "1001") -> Recording:
    assert hotline.db is not None and hotline.recordings is not None
    ended = datetime.now(UTC)
    async with hotline.db.sessions() as session, session.begin():
        await upsert_calls(
            session,
            [
                CallRecord(
                    linkedid=LINKEDID,
                    uniqueid=LINKEDID,
                    queue="zh-psychology",
                    agent=agent,
                    agent_interface=f"PJSIP/{agent}",
                    answered_at=ended - timedelta(seconds=6),
                    ended_at=ended,
                    disposition=Disposition.ANSWERED,
                )
            ],
        )
    spool = hotline.recordings.config.monitor_dir / f"{LINKEDID}.wav"
    call_audio(spool, 6.0)
    past = time.time() - 60
    os.utime(spool, (past, past))  # settled: MixMonitor closed it a minute ago
    rows = await hotline.recordings.scan()
    assert [r.linkedid for r in rows] == [LINKEDID]
    return rows[0]


async def login(client: httpx.AsyncClient, username: str) -> httpx.AsyncClient:
    client.cookies.clear()
    return await logged_in(client, username)


ROLE_CASES = [
    ("sup", 200),  # supervisors hear every call
    ("adm", 200),
    ("a1001", 200),  # the agent who took the call
    ("cb", 403),  # an agent who did not (callback seat, extension 1009)
    ("ops", 403),  # ops staff: prompts, not calls
    ("county", 403),
]


async def test_who_may_play_a_recording_and_every_attempt_is_audited(
    hotline: Hotline, client: httpx.AsyncClient
) -> None:
    row = await stored_recording(hotline)
    assert hotline.recordings is not None
    client.cookies.clear()
    assert (await client.get(f"/api/recordings/{LINKEDID}/audio")).status_code == 401
    for username, status in ROLE_CASES:
        await login(client, username)
        response = await client.get(f"/api/recordings/{LINKEDID}/audio")
        assert response.status_code == status, (username, response.text)
        meta = await client.get(f"/api/recordings/{LINKEDID}")
        assert meta.status_code == status, username
        if status == 200:
            assert response.content == read(str(row.path))
            assert response.headers["content-type"] == "audio/ogg"
            assert response.headers["accept-ranges"] == "bytes"
            assert meta.json()["sha256"] == row.sha256
            assert abs(meta.json()["duration_seconds"] - 6.0) <= TOLERANCE
    log = await hotline.recordings.access_log(LINKEDID)
    # who, what, when: listeners' plays; the agent who did not take the call as a refused attempt; roles
    # that never listen (ops, unit staff) are turned away before the recording is looked at
    assert [(e.username, e.action, e.status_code) for e in log] == [
        ("sup", "play", 200),
        ("adm", "play", 200),
        ("a1001", "play", 200),
        ("cb", "denied", 403),
    ]
    assert all(e.user_id > 0 for e in log)
    assert [e.at for e in log] == sorted(e.at for e in log)


async def test_range_requests_return_the_right_bytes_and_are_audited(
    hotline: Hotline, client: httpx.AsyncClient
) -> None:
    row = await stored_recording(hotline)
    whole = read(str(row.path))
    size = len(whole)
    await login(client, "a1001")
    url = f"/api/recordings/{LINKEDID}/audio"

    first = await client.get(url, headers={"Range": "bytes=0-99"})
    assert first.status_code == 206
    assert first.content == whole[:100]
    assert first.headers["content-range"] == f"bytes 0-99/{size}"
    assert first.headers["content-length"] == "100"

    middle = await client.get(url, headers={"Range": f"bytes=1000-{size + 50}"})
    assert middle.status_code == 206 and middle.content == whole[1000:]
    assert middle.headers["content-range"] == f"bytes 1000-{size - 1}/{size}"

    tail = await client.get(url, headers={"Range": "bytes=-64"})
    assert tail.status_code == 206 and tail.content == whole[-64:]

    beyond = await client.get(url, headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{size}"

    download = await client.get(url, params={"download": "true"})
    assert download.status_code == 200 and download.content == whole
    assert download.headers["content-disposition"] == f'attachment; filename="call-{LINKEDID}.opus"'

    assert hotline.recordings is not None
    log = await hotline.recordings.access_log(LINKEDID)
    assert [(e.username, e.action, e.byte_range, e.status_code) for e in log] == [
        ("a1001", "play", "bytes=0-99", 206),
        ("a1001", "play", f"bytes=1000-{size + 50}", 206),
        ("a1001", "play", "bytes=-64", 206),
        ("a1001", "play", f"bytes={size}-", 416),
        ("a1001", "download", None, 200),
    ]
    assert all(e.user_id > 0 and e.at <= datetime.now(UTC) for e in log)
    # the audit log itself is for supervisors
    assert (await client.get(f"/api/recordings/{LINKEDID}/access")).status_code == 403
    await login(client, "sup")
    seen = (await client.get(f"/api/recordings/{LINKEDID}/access")).json()
    assert [e["action"] for e in seen] == ["play", "play", "play", "play", "download"]


async def test_no_recording_is_404_and_purge_is_for_admins(
    hotline: Hotline, client: httpx.AsyncClient
) -> None:
    await login(client, "sup")
    assert (await client.get("/api/recordings/nope/audio")).status_code == 404
    assert (await client.post("/api/recordings/purge")).status_code == 403
    await login(client, "adm")
    response = await client.post("/api/recordings/purge")
    assert response.status_code == 200 and response.json() == []


async def test_ops_upload_a_prompt_and_a_corrupt_upload_replaces_nothing(
    hotline: Hotline, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    studio = encode(
        call_audio(tmp_path / "studio.wav", 2.5),
        tmp_path / "studio.mp3",
        "-ar",
        "44100",
        "-c:a",
        "libmp3lame",
    )
    url = "/api/prompts/zh/choose-service"
    await login(client, "a1001")
    assert (await client.put(url, content=b"x", headers={"Content-Type": "audio/mpeg"})).status_code == 403
    await login(client, "ops")
    response = await client.put(url, content=studio.read_bytes(), headers={"Content-Type": "audio/mpeg"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["files"] == ["zh/choose-service.wav", "zh/choose-service.ulaw", "zh/choose-service.alaw"]
    assert body["in_plan"] is True
    sounds = hotline.settings.data_dir / "sounds"
    rate, channels, width, frames = wav_header(sounds / "zh" / "choose-service.wav")
    assert (rate, channels, width) == (8000, 1, 2)
    assert abs(frames / rate - 2.5) <= TOLERANCE
    before = {p.name: p.read_bytes() for p in (sounds / "zh").iterdir()}

    corrupt = await client.put(
        url,
        content=b"ID3\x03\x00\x00\x00\x00\x00\x00not really mp3" * 40,
        headers={"Content-Type": "audio/mpeg"},
    )
    assert corrupt.status_code == 422
    assert "not a readable mp3 recording" in corrupt.json()["detail"]
    assert "nothing was replaced" in corrupt.json()["detail"]
    assert {p.name: p.read_bytes() for p in (sounds / "zh").iterdir()} == before

    wrong_type = await client.put(url, content=b"abc", headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415

    listing = {(p["prompt_set"], p["name"]): p for p in (await client.get("/api/prompts")).json()}
    assert listing[("zh", "choose-service")]["has_audio"] is True
    assert listing[("mn", "choose-service")]["has_audio"] is False
    assert listing[("zh", "choose-service")]["text"].startswith("心理咨询请按1")
