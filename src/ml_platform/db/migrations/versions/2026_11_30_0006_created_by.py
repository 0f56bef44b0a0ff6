"""Who created each job and caused each event: ``created_by`` on ``training_job`` and
``job_event`` (the API token's or OIDC user's name; NULL for rows written before, and for the
monitor's own events).

Revision ID: 0006_created_by
Revises: 0005_karmada_attempt_columns
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_created_by"
down_revision = "0005_karmada_attempt_columns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nullable columns without a default: adding them rewrites no rows on either backend."""
    op.add_column("training_job", sa.Column("created_by", sa.String(253), nullable=True))
    op.add_column("job_event", sa.Column("created_by", sa.String(253), nullable=True))


def downgrade() -> None:
    """Drop the columns (batch mode: SQLite rebuilds the tables)."""
    with op.batch_alter_table("job_event") as batch:
        batch.drop_column("created_by")
    with op.batch_alter_table("training_job") as batch:
        batch.drop_column("created_by")
