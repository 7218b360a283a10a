"""Tasks, the local copies of skills and assignments, and the kernel's tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from services.kernel.db import create_kernel_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_kernel_tables()
    op.create_table(
        "task",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("org_unit", sa.String(100)),
        sa.Column("owner_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("required_skills", sa.JSON, nullable=False),
        sa.Column("hours_per_week", sa.Float, nullable=False),
        sa.Column("effort_hours", sa.Float),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("seats", sa.Integer, nullable=False),
        sa.Column("learning_seats", sa.Integer, nullable=False),
        sa.Column("seats_filled", sa.Integer, nullable=False),
        sa.Column("remote", sa.Boolean, nullable=False),
        sa.Column("location", sa.String(200)),
        sa.Column("learning_skills", sa.JSON, nullable=False),
        sa.Column("visibility", sa.String(10), nullable=False),
        sa.Column("parent_id", sa.Uuid),
        sa.Column("automation_potential", sa.Float),
        sa.Column("source", sa.JSON),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_task_status_created", "task", ["status", "created_at", "id"])
    op.create_index("ix_task_parent_id", "task", ["parent_id"])
    op.create_table(
        "skill_ref",
        sa.Column("id", sa.String(300), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("label", sa.String(300), nullable=False),
        sa.Column("alt_labels", sa.JSON, nullable=False),
        sa.Column("skill_type", sa.String(100)),
    )
    op.create_table(
        "task_assignment",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("task_id", sa.Uuid, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
    )
    op.create_index("ix_task_assignment_task_id", "task_assignment", ["task_id"])


def downgrade() -> None:
    op.drop_table("task_assignment")
    op.drop_table("skill_ref")
    op.drop_table("task")
    op.drop_table("inbox_message")
    op.drop_table("idempotency_key")
    op.drop_table("outbox_message")
