"""Alembic owns the schema: the models and the migrations never drift apart."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from callcenter.db.engine import Database
from callcenter.db.schema import metadata


async def test_models_match_migrations(database: Database) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with database.engine.connect() as connection:
        assert await connection.run_sync(diff) == []


def test_the_schema_has_one_head() -> None:
    """Features may branch from the same revision while they are built; a merge revision must join them."""
    from alembic.script import ScriptDirectory

    from callcenter.db.migrate import alembic_config

    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1
