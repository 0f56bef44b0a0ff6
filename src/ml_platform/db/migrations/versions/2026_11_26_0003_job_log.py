"""Keep the tail of each finished job's driver log.

Revision ID: 0003_job_log
Revises: 0002_job_search_trgm
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ml_platform.db.base import UtcDateTime

revision = "0003_job_log"
down_revision = "0002_job_search_trgm"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``job_log``: one row per job, removed with the job."""
    op.create_table(
        "job_log",
        sa.Column("job_id", sa.String(63), nullable=False),
        sa.Column("cluster", sa.String(253), nullable=True),
        sa.Column("pod", sa.String(253), nullable=True),
        sa.Column("container", sa.String(253), nullable=True),
        sa.Column("captured_at", UtcDateTime(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["training_job.id"],
            name=op.f("fk_job_log_job_id_training_job"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_job_log")),
    )


def downgrade() -> None:
    """Drop ``job_log``."""
    op.drop_table("job_log")
