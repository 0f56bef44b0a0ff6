"""Every accepted database URL spelling becomes one async SQLAlchemy URL."""

from __future__ import annotations

import pytest

from ml_platform.db.url import DatabaseUrlError, normalize_database_url


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, "sqlite+aiosqlite:///ml-platform.db"),
        ("", "sqlite+aiosqlite:///ml-platform.db"),
        ("postgres://u:p@db:5432/jobs", "postgresql+psycopg://u:***@db:5432/jobs"),
        ("postgresql://u@db/jobs", "postgresql+psycopg://u@db/jobs"),
        ("postgresql+psycopg://u@db/jobs", "postgresql+psycopg://u@db/jobs"),
        ("sqlite:///tmp/x.db", "sqlite+aiosqlite:///tmp/x.db"),
        (
            "host=postgres user=mlplatform password=s3cret dbname=training_jobs sslmode=disable",
            "postgresql+psycopg://mlplatform:***@postgres/training_jobs?sslmode=disable",
        ),
        (
            "host=db port=6543 user=u dbname=d",
            "postgresql+psycopg://u@db:6543/d",
        ),
        ("host=db user=u password='a b' dbname=d", "postgresql+psycopg://u:***@db/d"),
    ],
)
def test_accepted_spellings(raw: str | None, expected: str) -> None:
    assert normalize_database_url(raw).render_as_string(hide_password=True) == expected


def test_libpq_password_with_space_is_kept() -> None:
    url = normalize_database_url("host=db user=u password='a b' dbname=d")
    assert url.password == "a b"


@pytest.mark.parametrize(
    "raw",
    ["mysql://u@db/x", "just-a-name", "host=db port=abc", "host='unterminated", "=x"],
)
def test_rejected(raw: str) -> None:
    with pytest.raises(DatabaseUrlError):
        normalize_database_url(raw)
