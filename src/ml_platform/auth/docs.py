"""/openapi.json and /docs behind authentication (``auth.public_docs: false``)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from ml_platform.auth.caller import Role
from ml_platform.auth.deps import require


def add_docs_routes(app: FastAPI) -> None:
    """Serve the schema and the Swagger page to any authenticated caller."""
    guard = [Depends(require(Role.VIEWER))]

    @app.get("/openapi.json", include_in_schema=False, dependencies=guard)
    async def openapi() -> dict[str, Any]:
        return app.openapi()

    @app.get("/docs", include_in_schema=False, dependencies=guard)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} - docs")
