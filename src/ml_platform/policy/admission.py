"""The one check a job request passes before anything is stored or rendered."""

from __future__ import annotations

from ml_platform.auth.caller import Caller
from ml_platform.config import Settings
from ml_platform.errors import InvalidRequestError
from ml_platform.jobs.schemas import TrainingJobRequest
from ml_platform.policy.credentials import refuse_inline_credentials
from ml_platform.policy.jobs import check_job_request
from ml_platform.workloads.environment import reserved_env_names


def admit_job_request(request: TrainingJobRequest, *, caller: Caller, settings: Settings) -> None:
    """403 outside the caller's namespaces or the job policy; 422 for inline credentials or a
    Secret-backed variable that would shadow another one."""
    check_job_request(request, caller=caller, policy=settings.policy)
    refuse_inline_credentials(request.model_dump(mode="json", by_alias=True, exclude_unset=True))
    _check_secret_env(request, settings)


def _check_secret_env(request: TrainingJobRequest, settings: Settings) -> None:
    taken = reserved_env_names(settings.workloads) | {
        name.upper() for name in request.custom_hyperparameters
    }
    seen: set[str] = set()
    for index, variable in enumerate(request.secret_env):
        if variable.name in taken or variable.name in seen:
            raise InvalidRequestError(
                f"secretEnv.{index}.name: {variable.name} is already set by the job "
                "(reserved or given twice)",
                [
                    {
                        "loc": ["body", "secretEnv", index, "name"],
                        "msg": "duplicate",
                        "type": "value",
                    }
                ],
            )
        seen.add(variable.name)
