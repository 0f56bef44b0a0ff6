"""ORM models of the jobs domain: ``training_job`` and its ``job_event`` history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ml_platform.db.base import Base, JsonType, UtcDateTime, utcnow

# SQLite only auto-increments INTEGER PRIMARY KEY; Postgres gets a BIGINT identity.
EventIdType = BigInteger().with_variant(Integer(), "sqlite")


class TrainingJob(Base):
    """One training job as the service knows it; the database is the source of truth."""

    __tablename__ = "training_job"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    job_name: Mapped[str] = mapped_column(String(63))
    namespace: Mapped[str] = mapped_column(String(63))
    algorithm: Mapped[str] = mapped_column(String(63))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(128))
    message: Mapped[str | None] = mapped_column(Text)
    request: Mapped[dict[str, Any]] = mapped_column(JsonType)
    workload_kind: Mapped[str] = mapped_column(String(32))
    workload_name: Mapped[str | None] = mapped_column(String(63))
    target_clusters: Mapped[list[str]] = mapped_column(JsonType)
    cluster_status: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    max_runtime_seconds: Mapped[int | None] = mapped_column(Integer)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    observed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The Karmada versions the status was last written from (see monitor/sync.py).
    observed_key: Mapped[str | None] = mapped_column(String(400))
    karmada_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_karmada_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    # Bumped by every write of the row's state; each write names the version it read
    # (compare-and-set), so a writer holding a stale copy changes nothing.
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    # When the driver log of this finished job should next be read and stored (None: done).
    log_capture_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Name of the API token or OIDC user that created the job (None before auth existed).
    created_by: Mapped[str | None] = mapped_column(String(253))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (
        # Keyset pagination (newest first), alone and behind each equality filter.
        Index("ix_training_job_created", created_at.desc(), id.desc()),
        Index("ix_training_job_namespace_created", namespace, created_at.desc(), id.desc()),
        Index("ix_training_job_status_created", status, created_at.desc(), id.desc()),
        Index("ix_training_job_algorithm_created", algorithm, created_at.desc(), id.desc()),
        # The monitor's work queue: jobs due for a (re)submission attempt.
        Index("ix_training_job_next_karmada_attempt", next_karmada_attempt_at),
        Index("ix_training_job_log_capture_due", log_capture_due_at),
    )
    # The ORM adds "AND version = <read version>" to every UPDATE of a job and raises
    # StaleDataError when another writer got there first.
    __mapper_args__ = {"version_id_col": version}


class JobEvent(Base):
    """One status transition of a job."""

    __tablename__ = "job_event"

    id: Mapped[int] = mapped_column(EventIdType, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(
        String(63), ForeignKey("training_job.id", ondelete="CASCADE"), index=True
    )
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(128))
    message: Mapped[str | None] = mapped_column(Text)
    cluster: Mapped[str | None] = mapped_column(String(253))
    # The caller whose request caused the event; None for the monitor's own observations.
    created_by: Mapped[str | None] = mapped_column(String(253))


class JobLog(Base):
    """The tail of a finished job's driver log, kept because the pods that wrote it go away."""

    __tablename__ = "job_log"

    job_id: Mapped[str] = mapped_column(
        String(63), ForeignKey("training_job.id", ondelete="CASCADE"), primary_key=True
    )
    cluster: Mapped[str | None] = mapped_column(String(253))
    pod: Mapped[str | None] = mapped_column(String(253))
    container: Mapped[str | None] = mapped_column(String(253))
    captured_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    content: Mapped[str] = mapped_column(Text)
