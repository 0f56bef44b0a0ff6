"""Move the job search's trigram index from ``id`` to ``lower(id)`` (Postgres only).

Revision ID: 0004_search_index_on_lower_id
Revises: 0003_job_log
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0004_search_index_on_lower_id"
down_revision = "0003_job_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """A trigram index on the bare ``id`` also serves ``id = ANY(...)``: once the table had
    some dead rows, Postgres picked it over the primary key for the monitor's lookups of a
    few hundred ids, and each took five seconds. An index on ``lower(id)`` still serves the
    search (ids are lowercase, and the search matches ``lower(id)``) but no equality on id."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_training_job_lower_id_trgm "
        "ON training_job USING gin (lower(id) gin_trgm_ops)"
    )
    op.execute("DROP INDEX IF EXISTS ix_training_job_id_trgm")


def downgrade() -> None:
    """Put the trigram index back on ``id``."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_training_job_id_trgm "
        "ON training_job USING gin (id gin_trgm_ops)"
    )
    op.execute("DROP INDEX IF EXISTS ix_training_job_lower_id_trgm")
