"""overflow decisions, callback tasks and attempts, call risk flags, call transfers

Revision ID: 0007
Revises: 0002
Create Date: 2026-11-23 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('overflow_decisions',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('extension', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('by', sa.String(length=64), nullable=True),
    sa.Column('active_seats', sa.Integer(), nullable=False),
    sa.Column('wanted_seats', sa.Integer(), nullable=False),
    sa.Column('predicted_service_level', sa.Float(), nullable=True),
    sa.Column('applied', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_overflow_decisions'))
    )
    op.create_index('ix_overflow_decisions_decided_at', 'overflow_decisions', ['decided_at'], unique=False)
    op.create_table('callback_tasks',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('call_ids', sa.Text(), nullable=False),
    sa.Column('sources', sa.Text(), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('crisis', sa.Boolean(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('first_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_outcome', sa.String(length=16), nullable=True),
    sa.Column('assigned_to', sa.String(length=32), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_call_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_tasks'))
    )
    op.create_index('ix_callback_tasks_number_status', 'callback_tasks', ['number', 'status'], unique=False)
    op.create_table('callback_attempts',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('task_id', sa.String(length=32), nullable=False),
    sa.Column('agent', sa.String(length=32), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('linkedid', sa.String(length=64), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['task_id'], ['callback_tasks.id'], name=op.f('fk_callback_attempts_task_id_callback_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_attempts'))
    )
    op.create_table('call_risk',
    sa.Column('linkedid', sa.String(length=64), nullable=False),
    sa.Column('risk_level', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('marked_by', sa.String(length=64), nullable=True),
    sa.Column('marked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('police_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('police_mode', sa.String(length=16), nullable=True),
    sa.PrimaryKeyConstraint('linkedid', name=op.f('pk_call_risk'))
    )
    op.create_table('call_transfers',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('linkedid', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=16), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=128), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_transfers'))
    )
    op.create_index('ix_call_transfers_linkedid', 'call_transfers', ['linkedid'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_call_transfers_linkedid', table_name='call_transfers')
    op.drop_table('call_transfers')
    op.drop_table('call_risk')
    op.drop_table('callback_attempts')
    op.drop_index('ix_callback_tasks_number_status', table_name='callback_tasks')
    op.drop_table('callback_tasks')
    op.drop_index('ix_overflow_decisions_decided_at', table_name='overflow_decisions')
    op.drop_table('overflow_decisions')
