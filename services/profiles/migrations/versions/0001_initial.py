"""Skills and their relations, workers, their skills and skill evidence, imports, and the
kernel's outbox, inbox and idempotency keys.

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

TZ = sa.DateTime(timezone=True)


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
        sa.Column("source_version", sa.String(50)),
        sa.Column("broader", sa.JSON, nullable=False),
        sa.Column("related", sa.JSON, nullable=False),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_skill_label", "skill", ["label"])
    op.create_table(
        "skill_relation",
        sa.Column("skill_id", sa.String(300), primary_key=True),
        sa.Column("kind", sa.String(10), primary_key=True),
        sa.Column("target_id", sa.String(300), primary_key=True),
    )
    op.create_index("ix_skill_relation_target_id", "skill_relation", ["target_id"])
    op.create_table(
        "taxonomy_revision",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
    )
    op.create_table(
        "skill_import",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("source_version", sa.String(50)),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("processed", sa.Integer, nullable=False),
        sa.Column("created", sa.Integer, nullable=False),
        sa.Column("updated", sa.Integer, nullable=False),
        sa.Column("unchanged", sa.Integer, nullable=False),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("attribution", sa.Text, nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("finished_at", TZ),
    )
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
        sa.Column("remote_preference", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("weekly_hours", sa.Float, nullable=False),
        sa.Column("max_concurrent_assignments", sa.Integer, nullable=False),
        sa.Column("availability", sa.JSON, nullable=False),
        sa.Column("blackouts", sa.JSON, nullable=False),
        sa.Column("aspirations", sa.JSON, nullable=False),
        sa.Column("preferences", sa.JSON, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("erased_at", TZ),
    )
    op.create_index("ix_worker_created", "worker", ["created_at", "id"])
    op.create_index("ix_worker_org_unit", "worker", ["org_unit"])
    op.create_index("ix_worker_manager_id", "worker", ["manager_id"])
    op.create_table(
        "worker_skill",
        sa.Column(
            "worker_id", sa.Uuid, sa.ForeignKey("worker.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("skill_id", sa.String(300), sa.ForeignKey("skill.id"), primary_key=True),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("verified_at", TZ),
        sa.Column("verified_by", sa.String(200)),
        sa.Column("last_used_at", TZ),
    )
    op.create_index("ix_worker_skill_skill_id", "worker_skill", ["skill_id"])
    op.create_table(
        "skill_evidence",
        sa.Column("assignment_id", sa.Uuid, primary_key=True),
        sa.Column("skill_id", sa.String(300), primary_key=True),
        sa.Column(
            "worker_id", sa.Uuid, sa.ForeignKey("worker.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("task_id", sa.Uuid, nullable=False),
        sa.Column("demonstrated_on", sa.Date, nullable=False),
        sa.Column("endorsed_level", sa.Integer),
        sa.Column("endorsed_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", TZ, nullable=False),
    )
    op.create_index("ix_skill_evidence_worker_id", "skill_evidence", ["worker_id"])


def downgrade() -> None:
    for table in (
        "skill_evidence",
        "worker_skill",
        "worker",
        "skill_import",
        "taxonomy_revision",
        "skill_relation",
        "skill",
        "inbox_message",
        "idempotency_key",
        "outbox_message",
    ):
        op.drop_table(table)
