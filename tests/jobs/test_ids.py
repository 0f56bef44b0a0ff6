"""Job ids: every Kubernetes name of a job comes from its id, so the id must fit them all."""

from __future__ import annotations

import re

import pytest

from ml_platform.jobs.ids import job_id_for, new_job_id
from ml_platform.workloads.spec import MAX_OBJECT_NAME_LENGTH

DNS_1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


@pytest.mark.parametrize(
    ("job_name", "job_id"),
    [
        ("iris-xgb", "iris-xgb-0123abcd"),
        ("1-xgb", "j1-xgb-0123abcd"),
        ("7", "j7-0123abcd"),
        ("a" * 38, "a" * 38 + "-0123abcd"),
        ("a" * 63, "a" * 38 + "-0123abcd"),
        ("9" * 63, "j" + "9" * 37 + "-0123abcd"),
        # Cutting at 38 would end the name part on a dash: it is dropped.
        ("a" * 37 + "-b", "a" * 37 + "-0123abcd"),
    ],
)
def test_id_is_the_name_made_into_a_short_dns_1035_label(job_name: str, job_id: str) -> None:
    assert job_id_for(job_name, "0123abcd") == job_id
    assert len(job_id) <= MAX_OBJECT_NAME_LENGTH
    assert DNS_1035_LABEL.match(job_id)


def test_new_ids_differ_for_the_same_name() -> None:
    ids = {new_job_id("1-" + "x" * 61) for _ in range(50)}
    assert len(ids) == 50
    assert all(DNS_1035_LABEL.match(i) and len(i) == MAX_OBJECT_NAME_LENGTH for i in ids)
