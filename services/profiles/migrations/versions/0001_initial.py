"""Skills, workers and their skills, and the kernel's outbox and inbox.

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
        "skill",
        sa.Column("id", sa.String(300), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("label", sa.String(300), nullable=False),
        sa.Column("alt_labels", sa.JSON, nullable=False),
        sa.Column("skill_type", sa.String(100)),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("broader", sa.JSON, nullable=False),
        sa.Column("related", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_skill_label", "skill", ["label"])
    op.create_table(
        "worker",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("external_id", sa.String(200), unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("org_unit", sa.String(100)),
        sa.Column("manager_id", sa.String(200)),
        sa.Column("location", sa.String(200)),
        sa.Column("timezone", sa.String(64)),
        sa.Column("work_arrangement", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("weekly_hours", sa.Float, nullable=False),
        sa.Column("aspirations", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_worker_created", "worker", ["created_at", "id"])
    op.create_table(
        "worker_skill",
        sa.Column(
            "worker_id", sa.Uuid, sa.ForeignKey("worker.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("skill_id", sa.String(300), sa.ForeignKey("skill.id"), primary_key=True),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True)),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_worker_skill_skill_id", "worker_skill", ["skill_id"])


def downgrade() -> None:
    op.drop_table("worker_skill")
    op.drop_table("worker")
    op.drop_table("skill")
    op.drop_table("inbox_message")
    op.drop_table("idempotency_key")
    op.drop_table("outbox_message")
