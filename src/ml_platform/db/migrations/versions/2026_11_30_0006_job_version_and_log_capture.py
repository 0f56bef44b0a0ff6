"""A version counter on each job (the compare-and-set of every status change) and the due
time of a driver-log capture still to be made.

Revision ID: 0006_job_version_log_capture
Revises: 0005_karmada_attempt_columns
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ml_platform.db.base import UtcDateTime

revision = "0006_job_version_log_capture"
down_revision = "0005_karmada_attempt_columns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``training_job.version`` (existing rows start at 1) and ``log_capture_due_at``."""
    # Plain ADD COLUMN on both backends: a batch copy of the table on SQLite would drop the
    # old table, and with foreign keys on that deletes every job's events and logs.
    op.add_column(
        "training_job",
        sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1")),
    )
    op.add_column("training_job", sa.Column("log_capture_due_at", UtcDateTime(), nullable=True))
    op.create_index(
        "ix_training_job_log_capture_due", "training_job", ["log_capture_due_at"], unique=False
    )


def downgrade() -> None:
    """Drop both columns."""
    op.drop_index("ix_training_job_log_capture_due", table_name="training_job")
    # Plain DROP COLUMN (SQLite 3.35+), for the same reason as the ADD COLUMN above.
    op.drop_column("training_job", "log_capture_due_at")
    op.drop_column("training_job", "version")
