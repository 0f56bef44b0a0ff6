"""No cross-site writes: a browser lets any page POST a form (urlencoded, multipart or
text/plain) to another site without asking first, so changing requests must be JSON, which a
page can only send cross-site after a CORS pre-check; and a request whose Origin is neither
this site nor an allowed one is refused outright."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from ml_platform.middleware import header_value, send_json_error

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON_MEDIA_TYPE = "application/json"


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _has_body(scope: Scope) -> bool:
    length = header_value(scope, b"content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return header_value(scope, b"transfer-encoding") is not None


def _hostname(authority: str) -> str | None:
    try:
        return urlsplit(f"//{authority}").hostname
    except ValueError:
        return None


def same_site(origin: str, scope: Scope) -> bool:
    """Whether ``origin`` names the host the request was sent to: the UI behind the same
    address, directly or through a proxy that passes Host (nginx's ``$host`` drops the port,
    so host names are compared without ports) or sets X-Forwarded-Host."""
    try:
        origin_host = urlsplit(origin).hostname
    except ValueError:
        return False
    hosts = (header_value(scope, b"x-forwarded-host"), header_value(scope, b"host"))
    return bool(origin_host) and any(
        host is not None and _hostname(host) == origin_host for host in hosts
    )


class CrossSiteWriteGuard:
    """415 for a changing request with a body that is not JSON; 403 for one from a foreign
    Origin. Reads pass (CORS keeps their answers from foreign pages)."""

    def __init__(self, app: ASGIApp, allowed_origins: Sequence[str]) -> None:
        self.app = app
        self.any_origin = "*" in allowed_origins
        self.allowed_origins = frozenset(o.rstrip("/").lower() for o in allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http" or scope["method"] not in MUTATING_METHODS:
            await self.app(scope, receive, send)
            return
        content_type = header_value(scope, b"content-type")
        if (content_type is not None or _has_body(scope)) and _media_type(
            content_type or ""
        ) != JSON_MEDIA_TYPE:
            await send_json_error(
                send,
                415,
                "changing requests take a JSON body only (Content-Type: application/json)",
                {"contentType": (content_type or "")[:100]},
            )
            return
        origin = header_value(scope, b"origin")
        if origin is not None and not self._allowed(origin, scope):
            await send_json_error(
                send,
                403,
                "cross-site request refused: its Origin is not allowed",
                {"origin": origin[:200], "hint": "add it to ML_PLATFORM_HTTP__CORS_ORIGINS"},
            )
            return
        await self.app(scope, receive, send)

    def _allowed(self, origin: str, scope: Scope) -> bool:
        return (
            self.any_origin
            or origin.rstrip("/").lower() in self.allowed_origins
            or same_site(origin, scope)
        )
