"""The organisation tree comes from the plan's ``units``: seeded into ``org_units`` on start, and again on
every applied version (a unit removed from the file is kept but inactive, a new one is referable at once)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from callcenter.app import Hotline
from callcenter.config.loader import parse_plan
from callcenter.settings import PROJECT_ROOT, load_settings
from callcenter.workorders.models import OrgUnit

SOURCE = "config/hotline.yaml"


async def _units(hotline: Hotline) -> dict[str, tuple[str, str | None, bool]]:
    assert hotline.db is not None
    async with hotline.db.sessions() as session:
        rows = (await session.execute(select(OrgUnit))).scalars().all()
    return {r.code: (r.tier, r.parent_code, r.active) for r in rows}


async def test_units_are_seeded_from_the_plan_and_follow_an_apply(
    postgres_url: str, database: object, tmp_path: Path
) -> None:
    text = (PROJECT_ROOT / SOURCE).read_text(encoding="utf-8")
    settings = load_settings(
        database_url=postgres_url, data_dir=tmp_path, agi_port=0, asterisk_config_dir=tmp_path / "asterisk"
    )
    hotline = Hotline(settings, plan=parse_plan(text, SOURCE))
    await hotline.start()
    try:
        units = await _units(hotline)
        assert len(units) == 12 and all(active for _tier, _parent, active in units.values())
        assert units["152522"] == ("banner", "152500", True)

        old = '"150105": {name: 赛罕区青少年服务站, tier: banner, parent: "150100"}'
        assert text.count(old) == 1
        changed = text.replace(old, '"150206": {name: 青山区青少年服务站, tier: banner, parent: "150200"}')
        assert hotline.config is not None and hotline.workorders is not None
        await hotline.config.apply_text(changed, author="ops-wang", source=SOURCE)

        units = await _units(hotline)
        assert units["150206"] == ("banner", "150200", True)
        assert units["150105"][2] is False  # kept for the orders that name it, no longer referable
        tree = hotline.workorders.tree
        assert "150206" in tree.subtree("150200") and tree.get("150105") is None
    finally:
        await hotline.stop()
