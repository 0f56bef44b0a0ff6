"""Workload renderers: pure functions from a job spec to Kubernetes manifests.

`render(spec, settings)` returns the workload of `spec.kind` (RayJob, PyTorchJob, TFJob,
MPIJob or an Indexed batch Job), the PVC to create when `volume_size_gb > 0` and no
`pvc_name` is given, the job's Karmada PropagationPolicy, and where the driver log is.

Decisions, each tested in tests/workloads:
- Environment: contract variables (ui-contract.md) first, then algorithm hyperparameters,
  then custom ones upper-cased; contract and credential names are reserved and win; a custom
  hyperparameter overrides an algorithm one of the same name.
- LABEL_COLUMN: `spec.label_column`, else custom hyperparameter `label_column`, else
  `settings.default_label_column` ("target").
- Credentials: `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` from Secret
  `ml-platform-s3-credentials` keys `accessKeyId`/`secretAccessKey` through `secretKeyRef`,
  `optional: true` by default (jobs on public buckets start without the Secret).
- Results volume: the named PVC, else the created `<job>-results`, else an emptyDir; mounted
  at `settings.results_mount_path` in every training container.
- Placement: the workload's policy picks one candidate cluster; the PVC follows as a
  dependency, except for MPIJob (no dependencies interpreter), whose PVC has a policy of its
  own that puts it on every candidate cluster.
- Creation order (`RenderedJob.objects`): policies, PVC, workload; delete in reverse.
"""

from ml_platform.workloads.environment import reserved_env_names, training_environment
from ml_platform.workloads.kinds import (
    PROPAGATION_POLICY_API,
    VOLUME_CLAIM_API,
    WORKLOAD_APIS,
    ApiResource,
)
from ml_platform.workloads.render import render
from ml_platform.workloads.rendered import DriverLocator, RenderedJob
from ml_platform.workloads.settings import WorkloadSettings
from ml_platform.workloads.spec import (
    InputChannel,
    SecretEnvRef,
    WorkloadKind,
    WorkloadSpec,
    WorkloadSpecError,
)

__all__ = [
    "PROPAGATION_POLICY_API",
    "VOLUME_CLAIM_API",
    "WORKLOAD_APIS",
    "ApiResource",
    "DriverLocator",
    "InputChannel",
    "RenderedJob",
    "SecretEnvRef",
    "WorkloadKind",
    "WorkloadSettings",
    "WorkloadSpec",
    "WorkloadSpecError",
    "render",
    "reserved_env_names",
    "training_environment",
]
