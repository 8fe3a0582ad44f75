"""Every table of the service. Import ``metadata`` from here (Alembic, tests) to get all of them: each
feature keeps its models in its own module and adds one import line below."""

from __future__ import annotations

from callcenter.db.models import Base

# Feature model modules (one line each; imported for their side effect of registering tables):

metadata = Base.metadata
