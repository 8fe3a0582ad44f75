"""After the call, on real PostgreSQL: convert, verify, store, link to the call; failures keep the original;
encryption at rest; retention purge with an explicit clock."""

from __future__ import annotations

import base64
import hashlib
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

import pytest
from sqlalchemy import select

from callcenter.db.calls import upsert_calls
from callcenter.db.engine import Database
from callcenter.records import CallRecord, Disposition
from recordings.crypto import MAGIC, BadKeyError, parse_key
from recordings.models import Recording
from recordings.policy import RetentionPolicy
from recordings.service import RecordingConfig, RecordingKeeper, RecordingMissing
from tests.recordings.conftest import TOLERANCE, call_audio, exists, read, read_back, size

ENDED = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
LINES = {"zh-psychology": "psychology", "zh-crisis": "crisis"}
KEY = base64.b64encode(bytes(range(32))).decode()


async def add_call(db: Database, linkedid: str, queue: str = "zh-psychology", *, ended: bool = True) -> None:
    record = CallRecord(
        linkedid=linkedid,
        uniqueid=linkedid,
        queue=queue,
        agent="1002",
        agent_interface="PJSIP/1002",
        answered_at=ENDED - timedelta(minutes=4),
        ended_at=ENDED if ended else None,
        disposition=Disposition.ANSWERED if ended else None,
    )
    async with db.sessions() as session, session.begin():
        await upsert_calls(session, [record])


def keeper(db: Database, tmp: Path, *, fmt: str = "opus", key: bytes | None = None) -> RecordingKeeper:
    config = RecordingConfig(
        monitor_dir=tmp / "monitor",
        store_dir=tmp / "store",
        fmt=fmt,
        key=key,
        settle_seconds=0.0,
        policy=RetentionPolicy(180, MappingProxyType({"crisis": 1825})),
    )
    return RecordingKeeper(db.sessions, config, lambda: LINES)


async def test_a_finished_call_is_converted_verified_stored_and_its_original_removed(
    database: Database, tmp_path: Path
) -> None:
    await add_call(database, "1700.1")
    original = call_audio(tmp_path / "monitor" / "1700.1.wav", 9.6)
    rows = await keeper(database, tmp_path).scan()
    assert [r.linkedid for r in rows] == ["1700.1"]
    row = rows[0]
    assert (row.status, row.format, row.category, row.encrypted) == ("stored", "opus", "psychology", False)
    assert row.path is not None
    stored = Path(row.path)
    assert stored == tmp_path / "store" / "2026" / "03" / "1700.1.opus"
    assert row.size_bytes == size(stored)
    assert row.sha256 == hashlib.sha256(read(stored)).hexdigest()
    assert row.duration_seconds is not None and abs(row.duration_seconds - 9.6) <= TOLERANCE
    info = read_back(stored)
    assert info.channels == 1 and abs(info.duration - 9.6) <= TOLERANCE
    assert not original.exists()
    assert await keeper(database, tmp_path).scan() == []  # nothing left to do


async def test_a_call_still_up_is_left_alone(database: Database, tmp_path: Path) -> None:
    await add_call(database, "1700.2", ended=False)
    original = call_audio(tmp_path / "monitor" / "1700.2.wav", 1.0)
    assert await keeper(database, tmp_path).scan() == []
    assert original.exists()


async def test_a_file_that_does_not_convert_keeps_its_original_and_says_why(
    database: Database, tmp_path: Path
) -> None:
    await add_call(database, "1700.3")
    original = tmp_path / "monitor" / "1700.3.wav"
    original.parent.mkdir(parents=True)
    original.write_bytes(b"RIFF" + b"\x00" * 100)
    assert await keeper(database, tmp_path).scan() == []
    assert original.exists()
    async with database.sessions() as session:
        row = await session.scalar(select(Recording).where(Recording.linkedid == "1700.3"))
    assert row is not None and row.status == "failed" and row.error
    assert row.original_path == str(original)
    with pytest.raises(RecordingMissing):
        await keeper(database, tmp_path).stored("1700.3")


async def test_encryption_at_rest_with_a_key_from_settings(database: Database, tmp_path: Path) -> None:
    await add_call(database, "1700.4")
    call_audio(tmp_path / "monitor" / "1700.4.wav", 2.0)
    the_keeper = keeper(database, tmp_path, fmt="mp3", key=parse_key(KEY))
    (row,) = await the_keeper.scan()
    assert row.encrypted and row.path is not None and row.path.endswith("1700.4.mp3.enc")
    blob = read(row.path)
    assert blob.startswith(MAGIC) and b"LAME" not in blob and b"Xing" not in blob
    assert row.sha256 == hashlib.sha256(blob).hexdigest()
    plain = await the_keeper.read_audio(row)
    clear = tmp_path / "clear.mp3"
    clear.write_bytes(plain)
    info = read_back(clear)
    assert (info.sample_rate, info.channels) == (8000, 1)
    assert abs(info.duration - 2.0) <= TOLERANCE
    with pytest.raises(BadKeyError):
        parse_key(base64.b64encode(b"short").decode())


async def test_retention_purge_with_an_explicit_clock_keeps_crisis_cases_longer(
    database: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await add_call(database, "1700.5", "zh-psychology")
    await add_call(database, "1700.6", "zh-crisis")
    for lid in ("1700.5", "1700.6"):
        call_audio(tmp_path / "monitor" / f"{lid}.wav", 0.5)
    the_keeper = keeper(database, tmp_path, fmt="wav")
    rows = {r.linkedid: r for r in await the_keeper.scan()}
    assert rows["1700.6"].category == "crisis"

    assert await the_keeper.purge(ENDED + timedelta(days=180) - timedelta(seconds=1)) == []
    caplog.set_level(logging.INFO, logger="recordings.service")
    removed = await the_keeper.purge(ENDED + timedelta(days=180))
    assert [p.linkedid for p in removed] == ["1700.5"]
    assert not exists(str(rows["1700.5"].path))
    assert exists(str(rows["1700.6"].path))
    assert "purged 1700.5 (psychology" in caplog.text and "kept 180 days" in caplog.text
    async with database.sessions() as session:
        gone = await session.scalar(select(Recording).where(Recording.linkedid == "1700.5"))
    assert gone is not None and gone.status == "purged" and gone.path is None
    assert gone.purged_at == ENDED + timedelta(days=180)

    assert await the_keeper.purge(ENDED + timedelta(days=1824)) == []
    assert [p.linkedid for p in await the_keeper.purge(ENDED + timedelta(days=1825))] == ["1700.6"]
