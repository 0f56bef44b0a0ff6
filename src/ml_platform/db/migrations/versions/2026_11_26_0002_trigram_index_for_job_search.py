"""Trigram index for the job list's substring search (Postgres only).

Revision ID: 0002_job_search_trgm
Revises: 0001_create_jobs
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0002_job_search_trgm"
down_revision = "0001_create_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """``q`` is a substring match on the id (which contains the job name); a btree cannot
    serve ``LIKE '%…%'`` but a trigram GIN index can. pg_trgm is a trusted extension."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_training_job_id_trgm "
        "ON training_job USING gin (id gin_trgm_ops)"
    )


def downgrade() -> None:
    """Drop the trigram index (the extension stays; other objects may use it)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_training_job_id_trgm")
