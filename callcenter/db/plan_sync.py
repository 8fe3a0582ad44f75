"""Keep the ``agents`` and ``queues`` tables in step with the hotline plan the service runs."""

from __future__ import annotations

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.models import Agent, Queue
from routing.plan import HotlinePlan


async def store_plan(sessions: async_sessionmaker[AsyncSession], plan: HotlinePlan) -> None:
    """Upsert every agent and queue of the plan; those no longer in it are marked inactive, not deleted
    (call records still name them)."""
    async with sessions() as session, session.begin():
        await session.execute(update(Agent).values(active=False))
        await session.execute(update(Queue).values(active=False))
        if plan.agents:
            rows = [
                {
                    "extension": a.extension,
                    "name": a.name,
                    "interface": a.interface,
                    "skills": ",".join(a.skills),
                    "languages": ",".join(a.languages),
                    "active": True,
                }
                for a in plan.agents
            ]
            stmt = insert(Agent).values(rows)
            await session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[Agent.extension],
                    set_={
                        **{
                            k: stmt.excluded[k]
                            for k in ("name", "interface", "skills", "languages", "active")
                        },
                        "updated_at": func.now(),
                    },
                )
            )
        if plan.queues:
            qrows = [
                {
                    "name": q.name,
                    "service_line": q.service_line,
                    "language": q.language,
                    "strategy": q.strategy,
                    "max_wait_seconds": q.max_wait_seconds,
                    "active": True,
                }
                for q in plan.queues
            ]
            qstmt = insert(Queue).values(qrows)
            await session.execute(
                qstmt.on_conflict_do_update(
                    index_elements=[Queue.name],
                    set_={
                        **{
                            k: qstmt.excluded[k]
                            for k in ("service_line", "language", "strategy", "max_wait_seconds", "active")
                        },
                        "updated_at": func.now(),
                    },
                )
            )
