"""The recordings' life after the call, run by ``Hotline`` as owned tasks: find MixMonitor's file of each
finished call, convert, verify, store, link to the call; purge by the retention policy; open for playback.

Steps for one spool file ``<monitor_dir>/<linkedid>.wav`` (only when the call's row says it has ended and
the file has not changed for ``settle_seconds``): encode into a scratch file beside the store, decode it
back and compare its duration with the original's (``VERIFY_TOLERANCE``), encrypt when a key is set, write
atomically to ``<recordings_dir>/<yyyy>/<mm>/<linkedid>.<ext>[.enc]``, read it back and check the SHA-256,
write the row, and only then remove the original. A failure leaves the original where it was and a
``failed`` row saying why.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.models import Call
from callcenter.db.spool import is_connection_error, raised_by_the_database_driver
from callcenter.records import CallRecord, Disposition
from callcenter.settings import Settings
from recordings.audio import STORAGE_FORMATS, AudioError, convert_for_storage, probe
from recordings.crypto import RecordingCipher, parse_key
from recordings.models import Recording, RecordingAccess
from recordings.policy import Kept, RetentionPolicy, category_of, expired

log = logging.getLogger(__name__)

VERIFY_TOLERANCE = 0.05  # seconds: the converted file must last as long as the original
ORPHAN_SECONDS = 300.0  # a spool file without a call row this long is not looked for again soon
SPOOL_SUFFIXES = (".wav", ".WAV", ".wav49", ".gsm", ".ulaw", ".alaw", ".sln")


@dataclass(frozen=True)
class RecordingConfig:
    monitor_dir: Path
    store_dir: Path
    fmt: str = "opus"
    bitrate: str = "24k"
    policy: RetentionPolicy = field(default_factory=RetentionPolicy)
    key: bytes | None = None
    scan_interval: float = 30.0
    settle_seconds: float = 1.0
    purge_interval: float = 3600.0


@dataclass(frozen=True, slots=True)
class Purged:
    linkedid: str
    category: str
    path: str | None
    size_bytes: int | None
    ended_at: datetime


class RecordingMissing(Exception):
    """No stored recording for that call (none made, failed, or purged)."""


class RecordingKeeper:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        config: RecordingConfig,
        service_line_of: Callable[[], Mapping[str, str]],
    ) -> None:
        self.sessions = sessions
        self.config = config
        self._service_line_of = service_line_of
        self._cipher = RecordingCipher(config.key) if config.key else None
        self._wake = asyncio.Event()
        self._pending = False  # a finished call's file was not ready yet: look again soon
        self._lock = asyncio.Lock()

    # -- the owned tasks ----------------------------------------------------------------------------
    def call_ended(self, record: CallRecord) -> None:
        """A call ended: look at the spool soon (answered calls leave a file there)."""
        if record.disposition == Disposition.ANSWERED:
            self._wake.set()

    async def run(self) -> None:
        """Scan the spool on every answered call's end and every ``scan_interval`` seconds."""
        while True:
            self._wake.clear()
            try:
                await self.scan()
            except Exception as exc:
                if is_connection_error(exc) and raised_by_the_database_driver(exc):
                    # the files stay in the spool until PostgreSQL is back
                    log.warning("recordings: database unavailable (%r); the spool waits", exc)
                else:
                    log.exception("recordings: spool scan failed; retrying")
            settle = self.config.settle_seconds
            wait = min(self.config.scan_interval, max(settle, 0.5)) if self._pending else None
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that races the wake-up.
                async with asyncio.timeout(wait or self.config.scan_interval):
                    await self._wake.wait()
            except TimeoutError:
                continue
            if settle > 0:
                await asyncio.sleep(settle)  # let the file settle before looking (Asterisk flushes)

    async def purge_forever(self) -> None:
        while True:
            try:
                await self.purge(datetime.now(UTC))
            except Exception:
                log.exception("recordings: purge failed; retrying at the next interval")
            await asyncio.sleep(self.config.purge_interval)

    # -- after the call ---------------------------------------------------------------------------
    async def scan(self) -> list[Recording]:
        """Process every spool file whose call has ended; returns the rows written."""
        done = []
        async with self._lock:
            self._pending = False
            for path in await asyncio.to_thread(_spool_files, self.config.monitor_dir):
                row = await self._process(path)
                if row is not None:
                    done.append(row)
        return done

    async def _process(self, original: Path) -> Recording | None:
        linkedid = original.stem
        async with self.sessions() as session:
            call = await session.scalar(select(Call).where(Call.linkedid == linkedid))
            existing = await session.scalar(select(Recording).where(Recording.linkedid == linkedid))
        if call is None:
            # the call writer may lag behind the file; a file no call claims after that is left alone
            age = time.time() - await asyncio.to_thread(_mtime, original)
            self._pending = self._pending or age < ORPHAN_SECONDS
            return None
        if call.disposition is None:
            return None  # still up: its end wakes us
        if existing is not None and existing.status == "failed":
            return None  # kept for a person to look at
        if existing is not None and existing.status == "stored":
            if existing.original_path is None:  # a crash between the row and the removal: finish it
                log.info("recordings: %s already stored, removing the original %s", linkedid, original)
                await asyncio.to_thread(original.unlink, missing_ok=True)
            return None
        if time.time() - await asyncio.to_thread(_mtime, original) < self.config.settle_seconds:
            self._pending = True
            return None
        category = category_of(call.queue, self._service_line_of())
        ended_at = call.ended_at or datetime.now(UTC)
        try:
            stored = await asyncio.to_thread(self._convert, original, linkedid, ended_at)
        except (AudioError, OSError) as exc:
            log.error("recordings: %s could not be stored, original kept at %s: %s", linkedid, original, exc)
            await self._upsert(
                linkedid,
                status="failed",
                category=category,
                original_path=str(original),
                error=str(exc),
                call_ended_at=call.ended_at,
            )
            return None
        path, duration, size, digest = stored
        row = await self._upsert(
            linkedid,
            status="stored",
            category=category,
            original_path=None,
            path=str(path),
            format=self.config.fmt,
            duration_seconds=duration,
            size_bytes=size,
            sha256=digest,
            encrypted=self._cipher is not None,
            error=None,
            call_ended_at=call.ended_at,
            stored_at=datetime.now(UTC),
        )
        # only now: the converted file is verified and recorded
        await asyncio.to_thread(original.unlink, missing_ok=True)
        log.info(
            "recordings: %s stored as %s (%.2f s, %d bytes, %s)", linkedid, path, duration, size, category
        )
        return row

    def _convert(self, original: Path, linkedid: str, ended_at: datetime) -> tuple[Path, float, int, str]:
        cfg = self.config
        source = probe(original)
        ext, _ = STORAGE_FORMATS[cfg.fmt]
        folder = cfg.store_dir / f"{ended_at:%Y}" / f"{ended_at:%m}"
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / (f"{linkedid}.{ext}" + (".enc" if self._cipher else ""))
        scratch = folder / f".{linkedid}.{ext}.part"
        try:
            convert_for_storage(original, scratch, cfg.fmt, cfg.bitrate)
            converted = probe(scratch)
            if abs(converted.duration - source.duration) > VERIFY_TOLERANCE:
                raise AudioError(
                    f"converted file lasts {converted.duration:.3f} s, the original {source.duration:.3f} s"
                )
            data = scratch.read_bytes()
            if self._cipher is not None:
                data = self._cipher.encrypt(data, linkedid)
            digest = hashlib.sha256(data).hexdigest()
            with scratch.open("wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(scratch, final)
        finally:
            scratch.unlink(missing_ok=True)
        if hashlib.sha256(final.read_bytes()).hexdigest() != digest:
            final.unlink(missing_ok=True)
            raise AudioError(f"{final} does not read back as written")
        return final, converted.duration, len(data), digest

    async def _upsert(self, linkedid: str, **values: object) -> Recording:
        insert_stmt = insert(Recording).values(linkedid=linkedid, **values)
        stmt = insert_stmt.on_conflict_do_update(index_elements=[Recording.linkedid], set_=values).returning(
            Recording
        )
        async with self.sessions() as session, session.begin():
            row: Recording = (await session.scalars(stmt)).one()
            return row

    # -- retention --------------------------------------------------------------------------------
    async def purge(self, now: datetime) -> list[Purged]:
        """Remove every stored recording the policy says is due at ``now``; log and return each."""
        policy = self.config.policy
        async with self.sessions() as session:
            rows = (await session.scalars(select(Recording).where(Recording.status == "stored"))).all()
        by_id = {r.linkedid: r for r in rows}
        kept = [Kept(r.linkedid, r.category, r.call_ended_at or r.created_at) for r in rows]
        removed: list[Purged] = []
        for item in expired(kept, policy, now):
            row = by_id[item.linkedid]
            if row.path:
                await asyncio.to_thread(Path(row.path).unlink, missing_ok=True)
            async with self.sessions() as session, session.begin():
                fresh = await session.get(Recording, row.id)
                if fresh is not None:
                    fresh.status = "purged"
                    fresh.purged_at = now
                    fresh.path = None
            gone = Purged(item.linkedid, item.category, row.path, row.size_bytes, item.ended_at)
            log.info(
                "recordings: purged %s (%s, ended %s, kept %d days): %s, %s bytes",
                gone.linkedid,
                gone.category,
                gone.ended_at.isoformat(),
                policy.days_for(gone.category),
                gone.path,
                gone.size_bytes,
            )
            removed.append(gone)
        if removed:
            log.info("recordings: purge at %s removed %d recording(s)", now.isoformat(), len(removed))
        return removed

    # -- playback ---------------------------------------------------------------------------------
    async def stored(self, linkedid: str) -> Recording:
        async with self.sessions() as session:
            row = await session.scalar(select(Recording).where(Recording.linkedid == linkedid))
        if row is None or row.status != "stored" or row.path is None:
            raise RecordingMissing(linkedid)
        return row

    async def read_audio(self, row: Recording) -> bytes:
        """The playable bytes of a stored recording (decrypted when stored encrypted)."""
        assert row.path is not None
        data = await asyncio.to_thread(Path(row.path).read_bytes)
        if row.encrypted:
            if self._cipher is None:
                raise RecordingMissing(f"{row.linkedid}: stored encrypted and no key is configured")
            return self._cipher.decrypt(data, row.linkedid)
        return data

    async def audit(
        self,
        *,
        linkedid: str,
        user_id: int,
        username: str,
        action: str,
        byte_range: str | None,
        status_code: int,
    ) -> None:
        async with self.sessions() as session, session.begin():
            session.add(
                RecordingAccess(
                    linkedid=linkedid,
                    user_id=user_id,
                    username=username,
                    action=action,
                    byte_range=byte_range,
                    status_code=status_code,
                    at=datetime.now(UTC),
                )
            )

    async def access_log(self, linkedid: str) -> list[RecordingAccess]:
        async with self.sessions() as session:
            stmt = (
                select(RecordingAccess)
                .where(RecordingAccess.linkedid == linkedid)
                .order_by(RecordingAccess.at, RecordingAccess.id)
            )
            return list((await session.scalars(stmt)).all())


def _mtime(path: Path) -> float:
    return path.stat().st_mtime


def _spool_files(spool: Path) -> list[Path]:
    if not spool.is_dir():
        return []
    return sorted(
        p
        for p in spool.iterdir()
        if not p.name.startswith(".") and p.suffix in SPOOL_SUFFIXES and p.is_file()
    )


MEDIA_TYPES = {"opus": "audio/ogg", "mp3": "audio/mpeg", "wav": "audio/wav"}


def config_from_settings(settings: Settings) -> RecordingConfig:
    key = parse_key(settings.recordings_key.get_secret_value()) if settings.recordings_key else None
    return RecordingConfig(
        monitor_dir=settings.monitor_dir or settings.data_dir / "monitor",
        store_dir=settings.recordings_dir or settings.data_dir / "recordings",
        fmt=settings.recordings_format,
        bitrate=settings.recordings_bitrate,
        policy=RetentionPolicy(
            settings.retention_days, MappingProxyType(dict(settings.retention_by_category))
        ),
        key=key,
        scan_interval=settings.recordings_scan_interval,
        settle_seconds=settings.recordings_settle_seconds,
        purge_interval=settings.recordings_purge_interval,
    )


def sounds_dir(settings: Settings) -> Path:
    return settings.sounds_dir or settings.data_dir / "sounds"
