"""cdr: the IVR's language and menu path as CDR variables (issue 8)

The rendered dialplan sets CDR(hotline_language) and CDR(hotline_menu_path) after the IVR; cdr_pgsql
fills every column of the cdr table whose name is a CDR variable, so a call whose AMI events were lost
is reconciled with what the caller chose.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cdr", sa.Column("hotline_language", sa.String(16), nullable=True))
    op.add_column("cdr", sa.Column("hotline_menu_path", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("cdr", "hotline_menu_path")
    op.drop_column("cdr", "hotline_language")
