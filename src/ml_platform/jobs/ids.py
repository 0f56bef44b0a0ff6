"""Job ids, and through them the name of every Kubernetes object of the job.

``jobName`` is the person's name for the job (a DNS-1123 label of up to 63 characters, which
may start with a digit). The id is derived from it and is itself a valid name for every object
the job creates: a DNS-1035 label (starts with a letter) of at most 47 characters, the longest
RayJob name KubeRay accepts. Objects are named ``<id>`` or ``<id>-<suffix>`` and carry the id
in their job-id label, so each one is unique and traceable to its job.
"""

from __future__ import annotations

import secrets

from ml_platform.workloads.spec import MAX_OBJECT_NAME_LENGTH

SUFFIX_HEX_DIGITS = 8
# Put before a name that starts with a digit: Kubernetes names of CRDs must start with a letter.
LETTER_PREFIX = "j"
_NAME_PART_MAX = MAX_OBJECT_NAME_LENGTH - 1 - SUFFIX_HEX_DIGITS


def job_id_for(job_name: str, suffix: str) -> str:
    """``<jobName, made to start with a letter and shortened>-<suffix>``."""
    part = job_name if job_name[:1].isalpha() else f"{LETTER_PREFIX}{job_name}"
    # Cutting may leave a trailing dash; a label must end with a letter or digit.
    return f"{part[:_NAME_PART_MAX].rstrip('-')}-{suffix}"


def new_job_id(job_name: str) -> str:
    """A fresh id for a job named ``job_name`` (random suffix: 32 bits)."""
    return job_id_for(job_name, secrets.token_hex(SUFFIX_HEX_DIGITS // 2))
