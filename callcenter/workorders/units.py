"""The organisation tree that work orders are referred down: the plan's ``units`` (config/hotline.yaml),
kept in ``org_units``."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.workorders.models import OrgUnit
from routing.plan import HotlinePlan
from routing.referral import OrgTree, Unit


def tree_of(plan: HotlinePlan) -> OrgTree:
    """The plan's units as a tree (the loader has checked parents, cycles and tiers)."""
    return OrgTree.of(Unit(u.code, u.name, u.tier, u.parent) for u in plan.units)


async def seed_units(sessions: async_sessionmaker[AsyncSession], plan: HotlinePlan) -> OrgTree:
    """Store the plan's units in ``org_units`` (on start and on every apply) and return the active tree."""
    tree = tree_of(plan)
    await store_units(sessions, tree)  # exactly these units are active afterwards
    return tree


async def store_units(sessions: async_sessionmaker[AsyncSession], tree: OrgTree) -> None:
    """Upsert every unit (parents first); units no longer in the tree are marked inactive."""
    async with sessions() as session, session.begin():
        await session.execute(update(OrgUnit).values(active=False))
        done: set[str] = set()
        pending = list(tree.units.values())
        while pending:
            ready = [u for u in pending if u.parent is None or u.parent in done]
            for u in ready:
                stmt = insert(OrgUnit).values(
                    code=u.code, name=u.name, tier=u.tier, parent_code=u.parent, active=True
                )
                await session.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[OrgUnit.code],
                        set_={"name": u.name, "tier": u.tier, "parent_code": u.parent, "active": True},
                    )
                )
                done.add(u.code)
            pending = [u for u in pending if u.code not in done]


DEFAULT_TOPICS_FILE = Path(__file__).with_name("topics.yaml")


def load_topics(path: Path = DEFAULT_TOPICS_FILE) -> dict[str, dict[str, str]]:
    """Topic code -> names per language (``zh``, ``en``)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {
        str(k): {str(lang): str(name) for lang, name in (v or {}).items()}
        for k, v in (data.get("topics") or {}).items()
    }
