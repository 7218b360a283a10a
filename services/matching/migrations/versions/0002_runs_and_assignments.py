"""Richer read models (worker availability, preferences, manager; task kind, visibility),
match runs and proposals, and assignments (from which the hours ledger is computed).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

LIVE = sa.text("status IN ('offered', 'accepted', 'approved', 'active')")


def upgrade() -> None:
    with op.batch_alter_table("task_view") as table:
        table.add_column(sa.Column("kind", sa.String(20), nullable=False, server_default="task"))
        table.add_column(
            sa.Column("visibility", sa.String(20), nullable=False, server_default="company")
        )
        table.add_column(sa.Column("learning_skills", sa.JSON, nullable=False, server_default="[]"))
        table.create_index("ix_task_view_synced_at", ["synced_at"])
    with op.batch_alter_table("worker_view") as table:
        table.add_column(sa.Column("manager_id", sa.String(200)))
        table.add_column(
            sa.Column("remote_preference", sa.String(20), nullable=False, server_default="any")
        )
        table.add_column(
            sa.Column("max_concurrent_assignments", sa.Integer, nullable=False, server_default="3")
        )
        for name in ("availability", "blackouts", "task_kinds"):
            table.add_column(sa.Column(name, sa.JSON, nullable=False, server_default="[]"))
        table.create_index("ix_worker_view_synced_at", ["synced_at"])
    with op.batch_alter_table("skill_view") as table:
        table.create_index("ix_skill_view_synced_at", ["synced_at"])

    op.create_table(
        "match_run",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("scope", sa.JSON, nullable=False),
        sa.Column("weights", sa.JSON, nullable=False),
        sa.Column("fairness", sa.JSON, nullable=False),
        sa.Column("time_limit_s", sa.Float, nullable=False),
        sa.Column("phase", sa.String(50), nullable=False),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("stats", sa.JSON, nullable=False),
        sa.Column("error", sa.String(1000)),
        sa.Column("cancel_requested", sa.Boolean, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "proposal",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("run_id", sa.Uuid, nullable=False, index=True),
        sa.Column("task_id", sa.Uuid, nullable=False, index=True),
        sa.Column("worker_id", sa.Uuid, nullable=False, index=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("learning_seat", sa.Boolean, nullable=False),
        sa.Column("explanation", sa.JSON, nullable=False),
        sa.Column("assignment_id", sa.Uuid),
    )
    op.create_table(
        "assignment",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("task_id", sa.Uuid, nullable=False, index=True),
        sa.Column("worker_id", sa.Uuid, nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("learning_seat", sa.Boolean, nullable=False),
        sa.Column("hours_per_week", sa.Float, nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("offered_by", sa.String(200), nullable=False),
        sa.Column("match_run_id", sa.Uuid),
        sa.Column("proposal_id", sa.Uuid),
        sa.Column("score", sa.Float),
        sa.Column("approval_due_at", sa.DateTime(timezone=True), index=True),
        sa.Column("approved_by", sa.String(200)),
        sa.Column("endorsed_skills", sa.JSON, nullable=False),
        sa.Column("completed_on", sa.Date),
        sa.Column("reason", sa.String(500)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    op.create_index(
        "uq_assignment_live_pair",
        "assignment",
        ["task_id", "worker_id"],
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )


def downgrade() -> None:
    op.drop_table("assignment")
    op.drop_table("proposal")
    op.drop_table("match_run")
    with op.batch_alter_table("skill_view") as table:
        table.drop_index("ix_skill_view_synced_at")
    with op.batch_alter_table("worker_view") as table:
        table.drop_index("ix_worker_view_synced_at")
        for name in (
            "task_kinds",
            "blackouts",
            "availability",
            "max_concurrent_assignments",
            "remote_preference",
            "manager_id",
        ):
            table.drop_column(name)
    with op.batch_alter_table("task_view") as table:
        table.drop_index("ix_task_view_synced_at")
        for name in ("learning_skills", "visibility", "kind"):
            table.drop_column(name)
