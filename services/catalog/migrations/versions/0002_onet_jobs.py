"""The O*NET release that job deconstruction reads, and its import jobs.

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


def upgrade() -> None:
    op.create_table(
        "occupation",
        sa.Column("code", sa.String(20), primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("ratings_from", sa.String(20)),
    )
    op.create_table(
        "occupation_task",
        sa.Column("occupation_code", sa.String(20), primary_key=True),
        sa.Column("task_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("task_type", sa.String(20)),
    )
    op.create_table(
        "task_dwa",
        sa.Column("occupation_code", sa.String(20), primary_key=True),
        sa.Column("task_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("dwa_id", sa.String(40), primary_key=True),
    )
    op.create_table(
        "dwa",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("iwa_id", sa.String(40), nullable=False),
        sa.Column("gwa_id", sa.String(40), nullable=False),
        sa.Column("gwa_title", sa.String(300), nullable=False),
    )
    op.create_index("ix_dwa_gwa_id", "dwa", ["gwa_id"])
    op.create_table(
        "skill_activity",
        sa.Column("gwa_id", sa.String(40), primary_key=True),
        sa.Column("skill_element", sa.String(40), primary_key=True),
        sa.Column("skill_name", sa.String(300), nullable=False),
    )
    op.create_table(
        "occupation_skill_rating",
        sa.Column("occupation_code", sa.String(20), primary_key=True),
        sa.Column("element_id", sa.String(40), primary_key=True),
        sa.Column("element_name", sa.String(300), nullable=False),
        sa.Column("importance", sa.Float),
        sa.Column("level", sa.Float),
    )
    op.create_table(
        "occupation_technology",
        sa.Column("occupation_code", sa.String(20), primary_key=True),
        sa.Column("product_id", sa.String(300), primary_key=True),
        sa.Column("product", sa.String(300), nullable=False),
        sa.Column("hot", sa.Boolean, nullable=False),
        sa.Column("listed_by", sa.Integer, nullable=False),
        sa.Column("in_demand", sa.Boolean, nullable=False),
    )
    op.create_table(
        "onet_import",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("source_version", sa.String(50)),
        sa.Column("occupations", sa.Integer, nullable=False),
        sa.Column("tasks", sa.Integer, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("attribution", sa.Text, nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    for table in (
        "onet_import",
        "occupation_technology",
        "occupation_skill_rating",
        "skill_activity",
        "dwa",
        "task_dwa",
        "occupation_task",
        "occupation",
    ):
        op.drop_table(table)
