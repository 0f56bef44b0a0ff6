"""The Karmada versions each job's status was last written from: ``observed_key`` on
``training_job`` (the workload's and binding's resourceVersions and the clusters not Ready).

A new monitor leader reads it instead of observing every job again, and never writes from
versions older than these (a standby's watch caches may trail what the old leader read).

Revision ID: 0008_observed_key
Revises: 0007_created_by
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_observed_key"
down_revision = "0007_created_by"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """A nullable column without a default: adding it rewrites no rows on either backend."""
    op.add_column("training_job", sa.Column("observed_key", sa.String(400), nullable=True))


def downgrade() -> None:
    """Drop the column: plain DROP COLUMN (SQLite 3.35+), as in 0006 and 0007."""
    op.drop_column("training_job", "observed_key")
