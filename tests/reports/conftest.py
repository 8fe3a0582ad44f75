"""Reports over HTTP on real PostgreSQL: the web fixtures and the work orders' clock and unit users."""

from tests.web.conftest import app, client, hotline  # noqa: F401  (fixtures)
from tests.workorders.conftest import clock  # noqa: F401  (fixture)
