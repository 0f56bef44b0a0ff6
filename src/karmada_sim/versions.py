"""Which Karmada release the simulator behaves as, and what that decides.

Facts from karmada-io/karmada: the default third-party interpreter customizations for
`ray.io/v1` RayJob and `kubeflow.org` PyTorchJob, TFJob and MPIJob (healthInterpretation,
statusAggregation, and for all but MPIJob dependencyInterpretation) first ship in v1.16.0
(pkg/resourceinterpreter/default/thirdparty/resourcecustomizations). Before that these kinds
have no interpreter: health is Unknown, no status is written back to the template and no
dependency follows them. batch/v1 Job has native interpreters in every supported release
(pkg/resourceinterpreter/default/native: getJobDependencies, aggregateJobStatus).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .resources import JOB, MPIJOB, PYTORCHJOB, RAYJOB, TFJOB, Resource

# The newest Karmada release checked (v1.18.2); the simulator's default.
CURRENT = "1.18"


@dataclass(frozen=True, order=True)
class KarmadaVersion:
    """A Karmada release as major.minor (patch releases do not change interpreters)."""

    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> KarmadaVersion:
        """`1.16`, `v1.16.3` or `1.16.0-rc.0`; anything else is a ValueError."""
        match = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?(?:-[0-9A-Za-z.]+)?", text.strip())
        if match is None:
            raise ValueError(f"not a Karmada version: {text!r} (expected e.g. 1.16 or v1.16.2)")
        return cls(int(match[1]), int(match[2]))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


THIRD_PARTY_SINCE = KarmadaVersion(1, 16)
_THIRD_PARTY = (RAYJOB, PYTORCHJOB, TFJOB, MPIJOB)
# Kinds whose interpreter has a dependencyInterpretation (MPIJob's has none).
_DECLARES_DEPENDENCIES = (RAYJOB, PYTORCHJOB, TFJOB)


def interprets_status(res: Resource, version: KarmadaVersion) -> bool:
    """Whether this release judges health and writes aggregated status back for `res`
    (only ever asked about workload kinds; native kinds are always interpreted)."""
    return res not in _THIRD_PARTY or version >= THIRD_PARTY_SINCE


def declares_dependencies(res: Resource, version: KarmadaVersion) -> bool:
    """Whether this release's interpreter names the pods' ConfigMaps, Secrets and PVCs of a
    `res` as dependencies, which `propagateDeps` then carries along."""
    if res == JOB:
        return True
    return res in _DECLARES_DEPENDENCIES and version >= THIRD_PARTY_SINCE
