"""One run of everything a client can do, then a scan of every response, event, log line,
dry-run output and Karmada object for the secret values the run used: none may appear."""

from __future__ import annotations

import io
import secrets
from typing import Any

import httpx
import yaml
from sqlalchemy.engine import make_url

from auth.callers import TEAM, Tokens, bearer, team_request
from karmada_sim.server import SimulatorServer
from karmada_support import KARMADA_PATHS, advance, items
from ml_platform.config import Settings
from tests_support import AppFactory, app_client, log_lines

JOBS = "/api/v1/jobs"
CLUSTERS = "/api/v1/proxy/clusters"


def with_secret_connections(settings: Settings, kube_token: str, db_password: str) -> Settings:
    """The same settings with a kubeconfig token and (Postgres, trust auth ignores it) a
    database password that must stay secret."""
    kubeconfig = settings.karmada.kubeconfig
    assert kubeconfig is not None
    config = yaml.safe_load(kubeconfig.read_text())
    for user in config["users"]:
        user["user"]["token"] = kube_token
    kubeconfig.write_text(yaml.safe_dump(config))
    url = settings.database.url
    assert url is not None
    if url.startswith("postgresql"):
        url = make_url(url).set(password=db_password).render_as_string(hide_password=False)
    return settings.model_copy(
        update={"database": settings.database.model_copy(update={"url": url})}
    )


async def exercise(client: httpx.AsyncClient, tokens: Tokens, inline: str) -> list[str]:
    """Every kind of request, allowed and refused; the text of every response."""
    texts: list[str] = []

    async def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await client.request(method, path, **kwargs)
        texts.append(f"{response.status_code} {response.headers} {response.text}")
        return response

    editor, viewer, admin = bearer(tokens.editor), bearer(tokens.viewer), bearer(tokens.admin)
    body = team_request(
        secretEnv=[{"name": "DB_PASSWORD", "secretName": "db-credentials", "key": "password"}]
    )
    await call("POST", JOBS, params={"dryRun": "true"}, json=body, headers=editor)
    job = (await call("POST", JOBS, json=body, headers={**editor, "Idempotency-Key": "k1"})).json()
    await call("POST", JOBS, json=body, headers={**editor, "Idempotency-Key": "k1"})
    # Inline credentials, refused: the value must not come back.
    leaky = team_request(customHyperparameters={"DB_PASSWORD": inline})
    await call("POST", JOBS, json=leaky, headers=editor)
    await call("POST", JOBS, params={"dryRun": "true"}, json=leaky, headers=editor)
    leaky_url = team_request()
    leaky_url["inputDataConfig"][0]["endpoint"] = f"https://u:{inline}@minio:9000"
    await call("POST", JOBS, json=leaky_url, headers=editor)
    await call(
        "POST", JOBS, json=team_request(entrypoint=f"train --token {inline}"), headers=editor
    )
    # Refused callers and requests.
    for headers in ({}, bearer(tokens.bad), {"Authorization": f"Basic {tokens.viewer}"}):
        await call("GET", JOBS, headers=headers)
    await call("POST", JOBS, json=body, headers=viewer)
    await call("POST", f"{JOBS}/{job['id']}/stop", data={"x": inline}, headers=editor)
    await call("POST", JOBS, json=body, headers={**editor, "Origin": "https://evil.example"})
    await call("GET", f"{CLUSTERS}/member1/resources", params={"namespace": TEAM}, headers=editor)
    # Reads.
    for path in ("", f"/{job['id']}", f"/{job['id']}/status", f"/{job['id']}/events"):
        await call("GET", JOBS + path, headers=viewer)
    await call("GET", f"{JOBS}/{job['id']}/logs", headers=viewer)
    await call("GET", CLUSTERS, headers=viewer)
    for type_ in ("pods", "rayjobs", "secrets", "configmaps"):
        await call(
            "GET",
            f"{CLUSTERS}/member1/resources",
            params={"namespace": TEAM, "type": type_},
            headers=admin,
        )
    for path in ("/health", "/ready", "/metrics", "/openapi.json", "/api/v1/algorithms"):
        await call("GET", path, headers=viewer)
    # Changes.
    await call("POST", f"{JOBS}/{job['id']}/stop", headers=editor)
    other = (await call("POST", JOBS, json=body, headers=admin)).json()
    await call("DELETE", f"{JOBS}/{other['id']}", headers=editor)
    await call("GET", f"{JOBS}/{job['id']}/events", headers=viewer)
    return texts


async def test_no_secret_value_appears_anywhere(
    auth_settings: Settings,
    app_factory: AppFactory,
    simulator: SimulatorServer,
    tokens: Tokens,
    json_log: io.StringIO,
) -> None:
    kube_token = "kube-" + secrets.token_hex(16)
    db_password = "db-" + secrets.token_hex(16)
    inline = "inline-" + secrets.token_hex(16)
    settings = with_secret_connections(auth_settings, kube_token, db_password)
    async with app_factory(settings) as app, app_client(app) as client:
        texts = await exercise(client, tokens, inline)
        advance(simulator, 40)
        texts += await exercise(client, tokens, inline)
    objects = [repr(items(simulator, path)) for path in KARMADA_PATHS]
    log_text = json_log.getvalue()
    logs = log_lines(json_log)
    scanned = {
        "responses": "\n".join(texts),
        "logs": log_text,
        "karmada objects": "\n".join(objects),
    }

    found = [
        f"{secret[:12]}... in {where}"
        for secret in (*tokens.values(), kube_token, db_password, inline)
        for where, text in scanned.items()
        if secret in text
    ]
    assert found == []
    # What the scan read is real: requests were answered and logged with their caller.
    assert len(texts) > 60
    requests = [entry for entry in logs if entry["event"] == "http.request"]
    changing = [entry for entry in requests if entry["method"] in ("POST", "DELETE")]
    assert changing
    assert {entry.get("caller") for entry in changing if entry["status"] < 400} == {
        "editor",
        "admin",
    }
