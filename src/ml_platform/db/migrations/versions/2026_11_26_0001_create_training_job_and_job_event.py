"""Create training_job and job_event.

Revision ID: 0001_create_jobs
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ml_platform.db.base import JsonType, UtcDateTime

revision = "0001_create_jobs"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the job tables and the indexes behind the list filters and keyset pages."""
    op.create_table(
        "training_job",
        sa.Column("id", sa.String(63), nullable=False),
        sa.Column("job_name", sa.String(63), nullable=False),
        sa.Column("namespace", sa.String(63), nullable=False),
        sa.Column("algorithm", sa.String(63), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(128), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("request", JsonType, nullable=False),
        sa.Column("workload_kind", sa.String(32), nullable=False),
        sa.Column("workload_name", sa.String(63), nullable=True),
        sa.Column("target_clusters", JsonType, nullable=False),
        sa.Column("cluster_status", JsonType, nullable=True),
        sa.Column("max_runtime_seconds", sa.Integer(), nullable=True),
        sa.Column("submitted_at", UtcDateTime(), nullable=True),
        sa.Column("started_at", UtcDateTime(), nullable=True),
        sa.Column("completed_at", UtcDateTime(), nullable=True),
        sa.Column("observed_at", UtcDateTime(), nullable=True),
        sa.Column("submit_attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_job")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_training_job_idempotency_key")),
    )
    op.create_index(
        "ix_training_job_created",
        "training_job",
        [sa.text("created_at DESC"), sa.text("id DESC")],
    )
    for column in ("namespace", "status", "algorithm"):
        op.create_index(
            f"ix_training_job_{column}_created",
            "training_job",
            [column, sa.text("created_at DESC"), sa.text("id DESC")],
        )
    op.create_index("ix_training_job_next_attempt", "training_job", ["next_attempt_at"])

    op.create_table(
        "job_event",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("job_id", sa.String(63), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(128), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("cluster", sa.String(253), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["training_job.id"],
            name=op.f("fk_job_event_job_id_training_job"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_event")),
    )
    op.create_index("ix_job_event_job_id", "job_event", ["job_id"])


def downgrade() -> None:
    """Drop the job tables."""
    op.drop_table("job_event")
    op.drop_table("training_job")
