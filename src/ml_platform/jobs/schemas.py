"""HTTP shapes of the jobs API (camelCase on the wire), with the request validation rules."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    model_validator,
)

from ml_platform.wire import DNS_1123_LABEL, DNS_1123_SUBDOMAIN, ENV_VAR_NAME, WireModel

# jobName is the person's name for the job; Kubernetes names come from the id (see jobs.ids).
JOB_NAME_MAX_LENGTH = 63
MAX_RUNTIME_SECONDS = 30 * 24 * 3600
UPLOAD_SOURCE_TYPE = "upload"
PRIORITY_MAX = 1_000_000

JobName = Annotated[
    str, StringConstraints(min_length=1, max_length=JOB_NAME_MAX_LENGTH, pattern=DNS_1123_LABEL)
]
Namespace = Annotated[str, StringConstraints(min_length=1, max_length=63, pattern=DNS_1123_LABEL)]
ClusterName = Annotated[
    str, StringConstraints(min_length=1, max_length=253, pattern=DNS_1123_SUBDOMAIN)
]
ShortText = Annotated[str, StringConstraints(max_length=1024)]
ImageRef = Annotated[str, StringConstraints(min_length=1, max_length=512, pattern=r"^\S+$")]
EnvVarName = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=ENV_VAR_NAME)]
Scalar = Annotated[str, StringConstraints(max_length=4096)] | bool | int | float


def rfc3339(value: datetime) -> str:
    """The wire form of a timestamp: ISO 8601 in UTC with a ``Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _require_aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return value


Timestamp = Annotated[
    datetime, AfterValidator(_require_aware), PlainSerializer(rfc3339, return_type=str)
]


class AlgorithmSpec(WireModel):
    """Which algorithm runs: a built-in one by id, or a user container image."""

    source: Literal["builtin", "container"] = Field(description="builtin or container.")
    algorithm_name: Annotated[str, StringConstraints(min_length=1, max_length=63)] = Field(
        description="Catalogue id for builtin; a free label for container."
    )
    image_uri: ImageRef | None = Field(default=None, description="Image for source=container.")

    @model_validator(mode="after")
    def _container_needs_image(self) -> AlgorithmSpec:
        if self.source == "container" and self.image_uri is None:
            raise ValueError("imageUri is required when source is 'container'")
        return self


class InstanceResources(WireModel):
    """Resources of one instance (pod)."""

    cpu_cores: int = Field(ge=1, le=256, description="CPU cores per instance.")
    memory_gi_b: int = Field(alias="memoryGiB", ge=1, le=4096, description="Memory in GiB.")
    gpu_count: int = Field(default=0, ge=0, le=64, description="GPUs per instance.")


class Resources(WireModel):
    """How many instances and how big."""

    instance_resources: InstanceResources
    instance_count: int = Field(default=1, ge=1, le=1000, description="Number of instances.")
    volume_size_gb: int = Field(
        default=0, alias="volumeSizeGB", ge=0, le=65536, description="Scratch volume, GB."
    )


class StoppingCondition(WireModel):
    """When the job is stopped regardless of progress."""

    max_runtime_seconds: int = Field(ge=1, le=MAX_RUNTIME_SECONDS, description="1 s to 30 days.")


class InputChannel(WireModel):
    """One input data channel."""

    id: ShortText | None = None
    channel_name: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    source_type: ShortText | None = None
    storage_provider: ShortText | None = None
    endpoint: ShortText | None = None
    bucket: ShortText | None = None
    prefix: ShortText | None = None

    @model_validator(mode="after")
    def _points_at_stored_data(self) -> InputChannel:
        """A channel is read from object storage: an upload or an empty path would silently
        give the job no data."""
        name = self.channel_name
        if self.source_type == UPLOAD_SOURCE_TYPE:
            raise ValueError(
                f"channel {name!r}: uploaded files are not supported; put the data in object "
                "storage and give its bucket and prefix"
            )
        missing = [key for key in ("bucket", "prefix") if not (getattr(self, key) or "").strip()]
        if missing:
            raise ValueError(
                f"channel {name!r} has no {' or '.join(missing)}: a channel must point at data "
                "in object storage"
            )
        return self


class SecretEnvVar(WireModel):
    """An environment variable of every training container whose value is a key of a
    Kubernetes Secret in the job's namespace: how a job gets a credential."""

    name: EnvVarName
    secret_name: Annotated[
        str, StringConstraints(min_length=1, max_length=253, pattern=DNS_1123_SUBDOMAIN)
    ] = Field(description="Secret in the job's namespace.")
    key: Annotated[
        str, StringConstraints(min_length=1, max_length=253, pattern=r"^[-._a-zA-Z0-9]+$")
    ] = Field(description="Key inside that Secret.")


class OutputDataConfig(WireModel):
    """Where the job writes its artifacts."""

    artifact_uri: ShortText


def reject_unstorable_values(data: Any) -> Any:
    """Refuse NUL characters and non-finite numbers anywhere in the body.

    Postgres cannot store either in JSONB or text, and JSON has no spelling for NaN/Infinity;
    the walk is iterative so a deeply nested body cannot exhaust the stack.
    """
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise ValueError("strings must not contain NUL characters")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError("numbers must be finite (no NaN or Infinity)")
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return data


class TrainingJobRequest(WireModel):
    """The job description the UI sends (``POST /api/v1/jobs``).

    ``priority`` is 0..1,000,000 (higher runs first where the cluster honours priorities).
    """

    _storable = model_validator(mode="before")(reject_unstorable_values)

    job_name: JobName = Field(description="DNS-1123 label, 1 to 63 characters.")
    priority: int = Field(default=0, ge=0, le=PRIORITY_MAX)
    algorithm: AlgorithmSpec
    resources: Resources
    stopping_condition: StoppingCondition | None = None
    input_data_config: list[InputChannel] = Field(default_factory=list, max_length=64)
    output_data_config: OutputDataConfig | None = None
    hyperparameters: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Keyed by algorithm id; blocks of other algorithms are ignored.",
    )
    custom_hyperparameters: dict[EnvVarName, Scalar] = Field(
        default_factory=dict, max_length=256, description="Extra environment variables."
    )
    secret_env: list[SecretEnvVar] = Field(
        default_factory=list,
        max_length=64,
        description="Environment variables from Secret keys (credentials are never inline).",
    )
    target_clusters: list[ClusterName] = Field(
        default_factory=list, max_length=100, description="Candidate clusters; empty = any."
    )
    namespace: Namespace = "default"
    entrypoint: Annotated[str, StringConstraints(min_length=1, max_length=4096)] | None = None
    head_image: ImageRef | None = None
    worker_image: ImageRef | None = None
    pvc_name: (
        Annotated[str, StringConstraints(max_length=253, pattern=DNS_1123_SUBDOMAIN)] | None
    ) = None


class TrainingJobResponse(WireModel):
    """A job as the UI reads it."""

    model_config = ConfigDict(extra="ignore")

    id: str
    job_name: str
    namespace: str
    algorithm: str
    priority: int
    request: dict[str, Any]
    status: str
    reason: str | None
    message: str
    target_clusters: list[str]
    clusters: list[str] = Field(
        default_factory=list,
        description="Member clusters the workload is on, as last observed (empty before).",
    )
    workload_kind: str
    created_by: str | None = Field(
        default=None, description="Name of the API token or OIDC user that created the job."
    )
    created_at: Timestamp
    updated_at: Timestamp
    submitted_at: Timestamp | None
    started_at: Timestamp | None
    completed_at: Timestamp | None
    # When the monitor last read this job's workload from Karmada (refreshed every
    # monitor.observed_refresh_seconds while it runs): how fresh ``status`` is.
    observed_at: Timestamp | None = None


class JobStatusResponse(WireModel):
    """Status summary of a job (``GET /jobs/{id}/status``)."""

    phase: str
    reason: str | None = None
    message: str | None = None
    active: int | None = None
    succeeded: int | None = None
    failed: int | None = None
    start_time: Timestamp | None = None
    completion_time: Timestamp | None = None
    cluster_distribution: dict[str, int] | None = None


class JobEventResponse(WireModel):
    """One recorded status transition."""

    id: int
    occurred_at: Timestamp
    from_status: str | None
    to_status: str
    reason: str | None
    message: str | None
    cluster: str | None
    created_by: str | None = Field(
        default=None, description="Caller whose request caused the event (None: the monitor)."
    )


class DryRunResponse(WireModel):
    """What ``POST /jobs?dryRun=true`` would create, and where it could run."""

    manifests: list[dict[str, Any]] = Field(description="Objects in creation order.")
    candidate_clusters: list[str] = Field(
        description="Ready clusters among targetClusters (all ready ones when it is empty)."
    )
    message: str


class JobLogsResponse(WireModel):
    """Driver log lines of a job (``GET /jobs/{id}/logs``); the UI shows ``message``."""

    message: str = Field(description="The log text, or why there is none.")
    cluster: str | None = None
    pod: str | None = None
    container: str | None = None
    source: Literal["live", "stored", "none"] = Field(
        description="live: read from the pod now; stored: the tail kept when the job ended."
    )
    logs: list[str] = Field(default_factory=list)


class JobCountsResponse(WireModel):
    """How many jobs have each status (statuses without jobs are left out)."""

    counts: dict[str, int]
    total: int


class MessageResponse(WireModel):
    """A plain acknowledgement."""

    message: str
