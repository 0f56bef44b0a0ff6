"""Who created each job and caused each event: ``created_by`` on ``training_job`` and
``job_event`` (the API token's or OIDC user's name; NULL for rows written before, and for the
monitor's own events).

Revision ID: 0007_created_by
Revises: 0006_job_version_log_capture
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_created_by"
down_revision = "0006_job_version_log_capture"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nullable columns without a default: adding them rewrites no rows on either backend."""
    op.add_column("training_job", sa.Column("created_by", sa.String(253), nullable=True))
    op.add_column("job_event", sa.Column("created_by", sa.String(253), nullable=True))


def downgrade() -> None:
    """Drop the columns: plain DROP COLUMN (SQLite 3.35+), as in 0006, because a batch copy of
    ``training_job`` on SQLite would delete every job's events through the foreign key."""
    op.drop_column("job_event", "created_by")
    op.drop_column("training_job", "created_by")
