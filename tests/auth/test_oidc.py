"""OIDC: JWTs signed by keys generated here, served as a JWKS over real HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from auth.callers import OTHER_TEAM, TEAM, team_request
from ml_platform.auth.settings import OidcSettings
from ml_platform.config import Settings
from tests_support import AppFactory, app_client

JOBS = "/api/v1/jobs"
ISSUER = "https://sso.example.com/realms/ml"
AUDIENCE = "ml-platform"
KID = "test-key"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class JwksServer:
    """A JWKS document on a free port; ``down()`` makes it stop answering."""

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
        document = json.dumps({"keys": [{**jwk, "kid": KID, "use": "sig", "alg": "RS256"}]})

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = document.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/certs"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def signing_key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture
def jwks(signing_key: rsa.RSAPrivateKey) -> Iterator[JwksServer]:
    server = JwksServer(signing_key)
    yield server
    server.close()


@pytest.fixture
def oidc_settings(auth_settings: Settings, jwks: JwksServer) -> Settings:
    return auth_settings.model_copy(
        update={
            "oidc": OidcSettings(
                issuer=ISSUER,
                audience=AUDIENCE,
                jwks_url=jwks.url,
                group_grants=[
                    {"group": "ml-viewers", "role": "viewer"},
                    {"group": "team-a-editors", "role": "editor", "namespaces": [TEAM]},
                    {"group": "team-b-editors", "role": "editor", "namespaces": [OTHER_TEAM]},
                ],
            )
        }
    )


def id_token(key: rsa.RSAPrivateKey, **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "u-123",
        "email": "ada@example.com",
        "groups": ["team-a-editors", "ml-viewers"],
        "iat": now,
        "exp": now + 300,
        **changes,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID})


async def test_a_verified_token_gets_the_role_of_its_groups(
    oidc_settings: Settings, app_factory: AppFactory, signing_key: rsa.RSAPrivateKey
) -> None:
    async with app_factory(oidc_settings) as app, app_client(app) as client:
        headers = {"Authorization": f"Bearer {id_token(signing_key)}"}
        created = await client.post(JOBS, json=team_request(), headers=headers)
        assert created.status_code == 201, created.text
        assert created.json()["createdBy"] == "ada@example.com"
        # Editor in team-a only: the viewer grant elsewhere does not widen the editor role.
        elsewhere = await client.post(JOBS, json=team_request(OTHER_TEAM), headers=headers)
        assert elsewhere.status_code == 403

        viewer = {"Authorization": f"Bearer {id_token(signing_key, groups=['ml-viewers'])}"}
        assert (await client.get(JOBS, headers=viewer)).status_code == 200
        assert (await client.post(JOBS, json=team_request(), headers=viewer)).status_code == 403


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"exp": int(time.time()) - 60}, 401),
        ({"aud": "another-app"}, 401),
        ({"iss": "https://evil.example.com"}, 401),
        ({"groups": ["unrelated"]}, 403),
        ({"groups": "team-a-editors"}, 403),  # not a list
    ],
)
async def test_tokens_that_do_not_check_out_are_refused(
    oidc_settings: Settings,
    app_factory: AppFactory,
    signing_key: rsa.RSAPrivateKey,
    changes: dict[str, Any],
    status: int,
) -> None:
    async with app_factory(oidc_settings) as app, app_client(app) as client:
        token = id_token(signing_key, **changes)
        response = await client.get(JOBS, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == status, response.text
        assert set(response.json()) == {"error", "details"}


async def test_a_token_signed_by_another_key_or_unsigned_is_refused(
    oidc_settings: Settings, app_factory: AppFactory
) -> None:
    forged = id_token(new_key())
    unsigned = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 60, "groups": ["ml-viewers"]},
        None,
        algorithm="none",
        headers={"kid": KID},
    )
    async with app_factory(oidc_settings) as app, app_client(app) as client:
        for token in (forged, unsigned):
            response = await client.get(JOBS, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401, response.text


async def test_an_unreachable_issuer_is_503_not_a_crash(
    oidc_settings: Settings,
    app_factory: AppFactory,
    signing_key: rsa.RSAPrivateKey,
    jwks: JwksServer,
) -> None:
    jwks.close()
    async with app_factory(oidc_settings) as app, app_client(app) as client:
        token = id_token(signing_key)
        response = await client.get(JOBS, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 503, response.text
