"""Interests: the tasks a worker showed interest in.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "interest",
        sa.Column("worker_id", sa.Uuid, primary_key=True),
        sa.Column("task_id", sa.Uuid, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_interest_task_id", "interest", ["task_id"])


def downgrade() -> None:
    op.drop_table("interest")
