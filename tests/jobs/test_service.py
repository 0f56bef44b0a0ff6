"""Pure parts of the jobs status: the status summary built from stored per-cluster data."""

from __future__ import annotations

from ml_platform.db.base import utcnow
from ml_platform.jobs.live import stored_status
from ml_platform.jobs.models import TrainingJob


def test_job_status_sums_cluster_counts() -> None:
    started = utcnow()
    job = TrainingJob(
        id="x-00000000",
        status="Running",
        reason="Running",
        message="2 of 3 workers up",
        started_at=started,
        completed_at=None,
        cluster_status={
            "member1": {"active": 2, "succeeded": 1, "failed": 0},
            "member2": {"active": 1, "failed": 1, "replicas": 4},
            "member3": {"phase": "Pending", "active": "bogus"},
        },
    )
    status = stored_status(job)
    assert status.phase == "Running"
    assert status.message == "2 of 3 workers up"
    assert (status.active, status.succeeded, status.failed) == (3, 1, 1)
    assert status.cluster_distribution == {"member1": 3, "member2": 4, "member3": 0}
    assert status.start_time == started
    dumped = status.model_dump(mode="json", by_alias=True)
    assert dumped["startTime"].endswith("Z")
    assert dumped["clusterDistribution"] == {"member1": 3, "member2": 4, "member3": 0}


def test_job_status_without_cluster_data_has_no_counts() -> None:
    job = TrainingJob(id="x-00000001", status="Pending", reason="Created", cluster_status=None)
    status = stored_status(job)
    assert status.active is None
    assert status.cluster_distribution is None
