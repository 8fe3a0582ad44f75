"""merge the feature branches (work orders, recordings, reconciliation, routing, caller, config versions)

The features were developed side by side, each branching from 0002; this revision joins them so that the
schema has one head again.

Revision ID: 0010
Revises: 0004, 0005, 0006, 0007, 0008, 0009
Create Date: 2026-11-23
"""

from collections.abc import Sequence

revision: str = "0010"
down_revision: str | Sequence[str] | None = ("0004", "0005", "0006", "0007", "0008", "0009")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
