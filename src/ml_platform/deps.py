"""FastAPI dependencies as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from ml_platform.clusters.directory import ClusterDirectory
from ml_platform.config import Settings
from ml_platform.db.readpool import ReadPool
from ml_platform.db.session import get_document_reader, get_session, get_write_session
from ml_platform.karmada.errors import KarmadaUnavailable
from ml_platform.karmada.gateway import KarmadaGateway


def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


def get_gateway(request: Request) -> KarmadaGateway:
    """The Karmada gateway; 503 when the service has no Karmada configured."""
    gateway: KarmadaGateway | None = request.app.state.gateway
    if gateway is None:
        raise KarmadaUnavailable(
            "Karmada is not configured", {"hint": "set KARMADA_KUBECONFIG or --karmada-kubeconfig"}
        )
    return gateway


def get_optional_gateway(request: Request) -> KarmadaGateway | None:
    """The Karmada gateway, or None when the service runs without Karmada."""
    gateway: KarmadaGateway | None = request.app.state.gateway
    return gateway


def get_cluster_directory(request: Request) -> ClusterDirectory:
    """The app's cached view of Karmada's cluster list."""
    directory: ClusterDirectory = request.app.state.cluster_directory
    return directory


# scope="function": the commit happens before the response is sent, so a failed commit is
# reported to the client instead of being lost after a 2xx.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
# For the routes that change a job's state: serialized with other writers on SQLite.
WriteSessionDep = Annotated[AsyncSession, Depends(get_write_session, scope="function")]
# For the job document reads (GET /jobs, GET /jobs/{id}): nothing to commit.
DocumentReaderDep = Annotated[
    ReadPool | AsyncSession, Depends(get_document_reader, scope="function")
]
SettingsDep = Annotated[Settings, Depends(get_settings)]
GatewayDep = Annotated[KarmadaGateway, Depends(get_gateway)]
OptionalGatewayDep = Annotated[KarmadaGateway | None, Depends(get_optional_gateway)]
ClusterDirectoryDep = Annotated[ClusterDirectory, Depends(get_cluster_directory)]
