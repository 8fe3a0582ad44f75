"""Applying a new ``hotline.yaml`` to the running service: check, store, render, swap, reload — no restart.

One :class:`ConfigApplier` is owned by :class:`~callcenter.app.Hotline`. Every way in ends in
:meth:`ConfigApplier._switch`:

- ``POST /api/config/apply`` and ``POST /api/config/rollback/{n}`` (``callcenter/web/config_api.py``) call
  :meth:`ConfigApplier.apply_text` / :meth:`ConfigApplier.rollback` in the service itself;
- ``hotline config apply FILE`` / ``rollback N`` (``callcenter/cli.py``, :func:`cli_store`) check the file and
  store the version in PostgreSQL with ``NOTIFY hotline_config``; the service LISTENs
  (:meth:`ConfigApplier.listen_forever`, an owned task) and swaps to the newest stored version
  (:meth:`ConfigApplier.adopt_latest`). It also looks every ``poll_seconds`` in case a notification was
  lost with a dropped connection. The CLI therefore needs the database, not a login to the web API, and
  waits until the service writes ``applied_at`` (or a refusal in ``apply_note``) back on the row.

A switch, in order (nothing happens before the file is known to be valid and stored):

1. render the Asterisk configuration and write it into ``asterisk_config_dir`` (each file written beside
   and renamed over the old one, so Asterisk never reads half a file);
2. ``module reload app_queue.so``: new queues exist before anyone is sent to them (app_queue keeps its
   dynamic members and the callers waiting);
3. ``QueueAdd`` each logged-in agent to the queues the new plan gives them (paused if they are paused);
4. swap ``Hotline.plan``: one immutable :class:`~routing.plan.HotlinePlan` reference replaced by another.
   The IVR reads the plan once per call (``ivr/session.py``), so a caller mid-menu finishes on the menus
   they started with and the next call gets the new ones;
5. ``dialplan reload``;
6. ``QueueRemove`` memberships the new plan no longer gives (not in queues the new plan dropped: those
   keep serving the callers still waiting in them, and Asterisk removes them once empty).

When the AMI link is down, steps 2, 3, 5 and 6 are skipped and said so in the result (and the version's
``apply_note``); the files on disk are already right for Asterisk's next reload.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from callcenter.ami.actions import AmiActions
from callcenter.ami.connection import AmiError
from callcenter.config.loader import ConfigError, ConfigProblem, load_plan, parse_plan
from callcenter.config.render import RenderOptions, render
from callcenter.config.versions import (
    NOTIFY_CHANNEL,
    VersionInfo,
    get_version,
    latest_version,
    mark_applied,
    sha256_of,
    store_version,
)
from callcenter.db.plan_sync import store_plan
from callcenter.workorders.units import seed_units
from routing.plan import AgentPlan, HotlinePlan
from routing.skills import penalty, profile_from_plan

if TYPE_CHECKING:
    from callcenter.workorders.service import WorkOrderService

__all__ = [
    "ApplyFailedError",
    "ApplyResult",
    "ConfigApplier",
    "PlanHost",
    "VersionRefusedError",
    "cli_store",
    "wait_until_served",
    "write_atomically",
]

log = logging.getLogger(__name__)

RELOAD_COMMANDS = ("module reload app_queue.so", "dialplan reload")


class PlanHost(Protocol):
    """What the applier needs of the composition root (``Hotline``)."""

    plan: HotlinePlan | None
    actions: AmiActions | None
    workorders: WorkOrderService | None

    @property
    def ami_connected(self) -> bool: ...


class ApplyFailedError(Exception):
    """A checked and stored version could not be put in place (the rendered files could not be written);
    the serving version keeps serving and the stored one says why in ``apply_note``."""


class VersionRefusedError(Exception):
    """A stored version the running code cannot load (e.g. written by a newer release)."""

    def __init__(self, n: int, problems: list[ConfigProblem]) -> None:
        super().__init__(f"version {n} has {len(problems)} problem(s)")
        self.n = n
        self.problems = problems


@dataclass(slots=True)
class ApplyResult:
    """What an apply did. ``version`` is None when the text was the serving version's already."""

    version: VersionInfo | None
    unchanged: bool = False
    files_written: list[str] = field(default_factory=list)
    reloaded: list[str] = field(default_factory=list)  # the AMI commands Asterisk accepted
    members_added: list[tuple[str, str]] = field(default_factory=list)  # (queue, interface)
    members_removed: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what could not be done (AMI down, …)

    @property
    def note(self) -> str | None:
        return "; ".join(self.notes) if self.notes else None


def write_atomically(files: dict[str, str], out: Path) -> list[str]:
    """Write each file beside its final name and rename it over the old one."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in sorted(files.items()):
        final = out / name
        temporary = out / f".{name}.new"
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, final)
        written.append(name)
    return written


class ConfigApplier:
    def __init__(
        self,
        host: PlanHost,
        sessions: async_sessionmaker[AsyncSession],
        *,
        database_url: str,
        asterisk_config_dir: Path,
        render_options: Callable[[], RenderOptions],
        poll_seconds: float = 30.0,
    ) -> None:
        self._host = host
        self.sessions = sessions
        self._database_url = database_url
        self._out = asterisk_config_dir
        self._render_options = render_options
        self._poll_seconds = poll_seconds
        self._lock = asyncio.Lock()
        self.version: int | None = None  # the stored version serving now; None: a plan handed in (tests)
        self.reload_pending = False  # a switch happened without an AMI link: reload when it is back
        self._wake = asyncio.Event()  # a NOTIFY arrived
        self.listening = asyncio.Event()  # set while the LISTEN connection is up (tests wait on it)

    # -- start -------------------------------------------------------------------------------------------
    async def startup_plan(self, config_file: Path) -> HotlinePlan:
        """The plan to start on: the newest stored version (what ops applied last, rollbacks included);
        with none stored yet, ``config_file``, stored as version 1."""
        latest = await latest_version(self.sessions)
        if latest is not None:
            try:
                plan = parse_plan(latest.yaml_text, f"version {latest.n}")
            except ConfigError as exc:
                log.error(
                    "stored configuration version %d cannot be loaded; starting on %s:\n%s",
                    latest.n,
                    config_file,
                    exc,
                )
            else:
                self.version = latest.n
                self._warn_if_file_differs(config_file, latest)
                return plan
        plan = load_plan(config_file)
        if latest is None:
            text = await asyncio.to_thread(config_file.read_text, encoding="utf-8")
            stored = await store_version(
                self.sessions,
                yaml_text=text,
                author="hotline (start)",
                source=str(config_file),
                action="initial",
                applied=True,
            )
            self.version = stored.n
        return plan

    @staticmethod
    def _warn_if_file_differs(config_file: Path, latest: VersionInfo) -> None:
        try:
            same = sha256_of(config_file.read_text(encoding="utf-8")) == latest.sha256
        except OSError:
            return
        if not same:
            log.warning(
                "%s differs from configuration version %d, which is serving; "
                "`hotline config apply %s` to serve the file",
                config_file,
                latest.n,
                config_file,
            )

    # -- ways in -----------------------------------------------------------------------------------------
    async def apply_text(self, yaml_text: str, *, author: str, source: str) -> ApplyResult:
        """Check ``yaml_text`` (raises :class:`ConfigError` with every problem: nothing changes), store it
        as a new version and switch to it."""
        plan = parse_plan(yaml_text, source)
        async with self._lock:
            latest = await latest_version(self.sessions)
            if latest is not None and latest.sha256 == sha256_of(yaml_text) and self.version == latest.n:
                return ApplyResult(version=None, unchanged=True)
            stored = await store_version(self.sessions, yaml_text=yaml_text, author=author, source=source)
            return await self._switch_and_record(stored, plan)

    async def rollback(self, n: int, *, author: str) -> ApplyResult:
        """Serve version ``n``'s text again, as a new version (the history is never rewritten)."""
        old = await get_version(self.sessions, n)  # UnknownVersionError
        try:
            plan = parse_plan(old.yaml_text, f"version {n}")
        except ConfigError as exc:
            raise VersionRefusedError(n, exc.problems) from exc
        async with self._lock:
            stored = await store_version(
                self.sessions,
                yaml_text=old.yaml_text,
                author=author,
                source=f"version {n}",
                action="rollback",
                rollback_of=n,
            )
            return await self._switch_and_record(stored, plan)

    async def adopt_latest(self) -> ApplyResult | None:
        """Switch to the newest stored version if it is not the one serving (a CLI stored it)."""
        async with self._lock:
            latest = await latest_version(self.sessions)
            if latest is None or (self.version is not None and latest.n <= self.version):
                return None
            served = latest.applied_at is not None or latest.apply_note is not None
            if served and self.version is None:  # a plan handed in: follow the database from now on
                self.version = latest.n
                return None
            try:
                plan = parse_plan(latest.yaml_text, f"version {latest.n}")
            except ConfigError as exc:
                note = "refused by the running service: " + "; ".join(str(p) for p in exc.problems)
                log.error("configuration version %d refused:\n%s", latest.n, exc)
                await mark_applied(self.sessions, latest.n, applied=False, note=note)
                self.version = latest.n  # do not retry it every poll; the old plan keeps serving
                return None
            log.info("configuration version %d stored by %s: switching", latest.n, latest.author)
            return await self._switch_and_record(latest, plan)

    # -- the switch --------------------------------------------------------------------------------------
    async def _switch_and_record(self, version: VersionInfo, plan: HotlinePlan) -> ApplyResult:
        try:
            result = await self._switch(plan, source=version.source)
        except ApplyFailedError as exc:
            self.version = version.n  # not again at every poll; the history says why
            await mark_applied(self.sessions, version.n, applied=False, note=f"not applied: {exc}")
            log.error("configuration version %d not applied: %s", version.n, exc)
            raise
        result.version = version
        self.version = version.n
        await mark_applied(self.sessions, version.n, applied=True, note=result.note)
        log.info(
            "configuration version %d serving (by %s): reloaded %s, +%d/-%d memberships%s",
            version.n,
            version.author,
            ", ".join(result.reloaded) or "nothing",
            len(result.members_added),
            len(result.members_removed),
            f"; {result.note}" if result.note else "",
        )
        return ApplyResult(
            version=await get_version(self.sessions, version.n),
            files_written=result.files_written,
            reloaded=result.reloaded,
            members_added=result.members_added,
            members_removed=result.members_removed,
            notes=result.notes,
        )

    async def _switch(self, plan: HotlinePlan, *, source: str) -> ApplyResult:
        result = ApplyResult(version=None)
        old = self._host.plan
        options = replace(self._render_options(), source=source)
        try:
            result.files_written = await asyncio.to_thread(write_atomically, render(plan, options), self._out)
        except OSError as exc:
            raise ApplyFailedError(f"cannot write the Asterisk configuration to {self._out}: {exc}") from exc
        actions = self._host.actions if self._host.ami_connected else None
        members: dict[str, dict[str, bool]] = {}
        self.reload_pending = actions is None
        if actions is None:
            result.notes.append("no AMI link: Asterisk was not asked to reload")
        else:
            await self._command(actions, "module reload app_queue.so", result)
            members = await self._memberships(actions, result)
            await self._add_members(actions, old, plan, members, result)
        self._host.plan = plan  # the swap: one reference, read once per call by the IVR
        await store_plan(self.sessions, plan)
        tree = await seed_units(self.sessions, plan)  # org_units follow the plan's `units` (issue 6)
        if self._host.workorders is not None:
            self._host.workorders.adopt(plan, tree)
        if actions is not None:
            await self._command(actions, "dialplan reload", result)
            await self._remove_members(actions, old, plan, members, result)
        return result

    async def reload_if_pending(self) -> ApplyResult | None:
        """After the AMI link comes back: the reloads and memberships a switch without it skipped."""
        async with self._lock:
            plan, actions = self._host.plan, self._host.actions
            if not self.reload_pending or plan is None or actions is None or not self._host.ami_connected:
                return None
            result = ApplyResult(version=None)
            await self._command(actions, "module reload app_queue.so", result)
            await self._add_members(actions, None, plan, await self._memberships(actions, result), result)
            await self._command(actions, "dialplan reload", result)
            self.reload_pending = bool(result.notes)
            log.info("Asterisk reloaded after the AMI link came back: %s", result.note or "ok")
            return result

    async def _command(self, actions: AmiActions, command: str, result: ApplyResult) -> None:
        try:
            await actions.command(command)
        except AmiError as exc:
            result.notes.append(f"{command}: {exc}")
        else:
            result.reloaded.append(command)

    async def _memberships(self, actions: AmiActions, result: ApplyResult) -> dict[str, dict[str, bool]]:
        """interface -> {queue: paused} for dynamic members (agents logged in through the desk)."""
        try:
            status = await actions.queue_status()
        except AmiError as exc:
            result.notes.append(f"QueueStatus: {exc}")
            return {}
        members: dict[str, dict[str, bool]] = {}
        for item in status.events:
            if item.name != "QueueMember" or item.get("Membership") != "dynamic":
                continue
            interface, queue = item.get("Location") or item.get("Interface"), item.get("Queue")
            if interface and queue:
                members.setdefault(interface, {})[queue] = item.get("Paused") == "1"
        return members

    async def _add_members(
        self,
        actions: AmiActions,
        old: HotlinePlan | None,
        plan: HotlinePlan,
        members: dict[str, dict[str, bool]],
        result: ApplyResult,
    ) -> None:
        """Logged-in agents join the queues the new version gives them (with the desk's skill penalty)."""
        for agent in plan.agents:
            current = members.get(agent.interface)
            if not current:
                continue  # not logged in
            paused = all(current.values())
            for queue, level in _served(plan, agent).items():
                if queue in current:
                    continue
                try:
                    await actions.queue_add(
                        queue,
                        agent.interface,
                        member_name=agent.extension,
                        penalty=level,
                        state_interface=agent.interface,
                        paused=paused,
                    )
                except AmiError as exc:
                    result.notes.append(f"QueueAdd {queue} {agent.interface}: {exc}")
                else:
                    result.members_added.append((queue, agent.interface))

    async def _remove_members(
        self,
        actions: AmiActions,
        old: HotlinePlan | None,
        plan: HotlinePlan,
        members: dict[str, dict[str, bool]],
        result: ApplyResult,
    ) -> None:
        """Memberships the old version gave and the new one does not are taken away. Only those: a
        membership the desk added for another reason (say a language widening) is the desk's business.
        Queues the new version drops keep their members while callers still wait in them."""
        if old is None:
            return
        queues = {q.name for q in plan.queues}
        for agent in old.agents:
            current = members.get(agent.interface)
            if not current:
                continue
            new_agent = next((a for a in plan.agents if a.extension == agent.extension), None)
            wanted = _served(plan, new_agent) if new_agent is not None else {}
            for queue in sorted(set(_served(old, agent)) - set(wanted)):
                if queue not in current or queue not in queues:
                    continue
                try:
                    await actions.queue_remove(queue, agent.interface)
                except AmiError as exc:
                    result.notes.append(f"QueueRemove {queue} {agent.interface}: {exc}")
                else:
                    result.members_removed.append((queue, agent.interface))

    # -- LISTEN ------------------------------------------------------------------------------------------
    async def listen_forever(self) -> None:
        """LISTEN on ``hotline_config`` and adopt each newly stored version; reconnect when the connection
        drops; look anyway every ``poll_seconds``. An owned task of the Hotline."""
        backoff = 0.5
        while True:
            engine = create_async_engine(self._database_url, poolclass=NullPool)
            try:
                async with engine.connect() as conn:
                    raw = await conn.get_raw_connection()
                    driver: Any = raw.driver_connection  # asyncpg's connection
                    await driver.add_listener(NOTIFY_CHANNEL, self._notified)
                    self.listening.set()
                    backoff = 0.5
                    await self._adopt_logged()  # whatever was stored while nobody listened
                    while not driver.is_closed():
                        # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel that
                        # arrives with a notification, and stop() would then wait a whole poll
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(self._poll_seconds):
                                await self._wake.wait()
                        self._wake.clear()
                        await self._adopt_logged()
            except (OSError, SQLAlchemyError) as exc:
                log.warning("configuration listener: %s; again in %.1f s", exc, backoff)
            finally:
                self.listening.clear()
                await engine.dispose()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)

    def _notified(self, *_args: object) -> None:
        self._wake.set()

    async def _adopt_logged(self) -> None:
        try:
            await self.adopt_latest()
        except ApplyFailedError:
            pass  # logged and noted on the version
        except (OSError, SQLAlchemyError) as exc:
            log.warning("could not look for a new configuration version: %s", exc)


# -- the CLI's side ------------------------------------------------------------------------------------


async def cli_store(
    sessions: async_sessionmaker[AsyncSession],
    yaml_text: str,
    *,
    author: str,
    source: str,
    rollback_of: int | None = None,
) -> VersionInfo:
    """Store a checked text as the newest version (NOTIFY included); the running service swaps to it."""
    return await store_version(
        sessions,
        yaml_text=yaml_text,
        author=author,
        source=source,
        action="rollback" if rollback_of is not None else "apply",
        rollback_of=rollback_of,
    )


async def wait_until_served(
    sessions: async_sessionmaker[AsyncSession],
    n: int,
    *,
    timeout: float,
    clock: Callable[[], float] | None = None,
) -> VersionInfo:
    """Version ``n`` once a running service has swapped to it or refused it, else as it is at ``timeout``."""
    loop = asyncio.get_running_loop()
    now = clock or loop.time
    deadline = now() + timeout
    while True:
        version = await get_version(sessions, n)
        if version.applied_at is not None or version.apply_note is not None or now() >= deadline:
            return version
        await asyncio.sleep(0.1)


def _served(plan: HotlinePlan, agent: AgentPlan) -> dict[str, int | None]:
    """queue -> penalty: the queues the agent's skills and languages serve, as the desk logs them in."""
    profile = profile_from_plan(agent)
    return {queue.name: penalty(profile, queue) for queue in plan.queues_for_agent(agent)}


def service_render_options(agi_host: str, agi_port: int) -> RenderOptions:
    """How the service renders on apply: Asterisk reaches the IVR at the service's FastAGI address."""
    host = "127.0.0.1" if agi_host in ("", "0.0.0.0", "::") else agi_host
    return RenderOptions(agi_url=f"agi://{host}:{agi_port}/ivr")
