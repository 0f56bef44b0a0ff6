"""Rename the retry columns of ``training_job`` to say that they drive every Karmada step.

``submit_attempts`` and ``next_attempt_at`` also count and schedule the retries of stopping and
deleting a job, not only of submitting it. Values are kept as they are.

Revision ID: 0005_karmada_attempt_columns
Revises: 0004_search_index_on_lower_id
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0005_karmada_attempt_columns"
down_revision = "0004_search_index_on_lower_id"
branch_labels = None
depends_on = None

# (old, new); RENAME COLUMN keeps the data on Postgres and on SQLite (3.25 or later).
_COLUMNS = (
    ("submit_attempts", "karmada_attempts"),
    ("next_attempt_at", "next_karmada_attempt_at"),
)
_INDEXES = ("ix_training_job_next_attempt", "ix_training_job_next_karmada_attempt")


def _rename(columns: tuple[tuple[str, str], ...], old_index: str, new_index: str) -> None:
    op.drop_index(old_index, table_name="training_job")
    for old, new in columns:
        op.execute(f"ALTER TABLE training_job RENAME COLUMN {old} TO {new}")
    op.create_index(new_index, "training_job", [columns[1][1]])


def upgrade() -> None:
    """Old names to new ones, index included."""
    _rename(_COLUMNS, *_INDEXES)


def downgrade() -> None:
    """New names back to the old ones."""
    swapped = tuple((new, old) for old, new in _COLUMNS)
    _rename(swapped, _INDEXES[1], _INDEXES[0])
