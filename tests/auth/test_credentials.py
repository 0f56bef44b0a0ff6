"""Credentials only by Secret reference: inline ones are refused in every free-text field."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ml_platform.policy.credentials import credential_findings
from tests_support import UI_REQUEST

JOBS = "/api/v1/jobs"
SECRET = "S3cr3t-hunter2"
USERINFO_URL = f"https://alice:{SECRET}@example.com/data"
Path = tuple[str | int, ...]

# Free-text fields the UI request does not carry, with a request they are valid in.
OPTIONAL_TEXT: dict[Path, dict[str, Any]] = {
    ("entrypoint",): {},
    ("headImage",): {},
    ("workerImage",): {},
    ("algorithm", "imageUri"): {"algorithm": {"source": "container", "algorithmName": "custom"}},
    ("customHyperparameters", "NOTE"): {},
}


def text_paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every string leaf of a request."""
    if isinstance(value, str):
        yield prefix
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from text_paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from text_paths(child, (*prefix, index))


def with_value(path: Path, value: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    body = copy.deepcopy(UI_REQUEST)
    for key, changed in (base or {}).items():
        body[key] = copy.deepcopy(changed)
    target: Any = body
    for part in path[:-1]:
        target = target.setdefault(part, {}) if isinstance(part, str) else target[part]
    target[path[-1]] = value
    return body


def every_text_field() -> list[tuple[Path, dict[str, Any]]]:
    return [(path, {}) for path in text_paths(UI_REQUEST)] + list(OPTIONAL_TEXT.items())


async def test_a_url_with_credentials_is_refused_in_every_free_text_field(
    client: httpx.AsyncClient,
) -> None:
    accepted = []
    for path, base in every_text_field():
        response = await client.post(JOBS, json=with_value(path, USERINFO_URL, base))
        if response.status_code != 422:
            accepted.append(f"{'.'.join(map(str, path))}: {response.status_code}")
        assert SECRET not in response.text
    assert not accepted, accepted
    assert (await client.get(JOBS)).json() == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("entrypoint",), f"python train.py --password {SECRET}"),
        (("entrypoint",), f"DB_TOKEN={SECRET} python train.py"),
        (("customHyperparameters", "NOTE"), f"api_key: {SECRET}"),
        (("inputDataConfig", 0, "bucket"), "AKIAIOSFODNN7EXAMPLE"),
        (("customHyperparameters", "CERT"), "-----BEGIN RSA PRIVATE KEY-----\nMIIB"),
        (("customHyperparameters", "DB_PASSWORD"), SECRET),
        (("customHyperparameters", "hf_token"), SECRET),
        (("customHyperparameters", "SIGNING_KEY"), SECRET),
        (("customHyperparameters", "client_secret"), SECRET),
    ],
)
async def test_credential_looking_values_and_names_are_refused_with_how_to_reference_them(
    client: httpx.AsyncClient, path: Path, value: str
) -> None:
    response = await client.post(JOBS, json=with_value(path, value))
    assert response.status_code == 422, response.text
    body = response.json()
    assert "secretEnv" in body["error"]
    assert body["details"]["findings"][0]["loc"] == ["body", *path]
    assert SECRET not in response.text


async def test_a_secret_reference_is_accepted_and_rendered_as_a_secret_key_ref(
    client: httpx.AsyncClient,
) -> None:
    body = with_value(
        ("secretEnv",), [{"name": "DB_PASSWORD", "secretName": "db-credentials", "key": "password"}]
    )
    body["inputDataConfig"][0]["channelName"] = "token-counts"  # a name, not a credential
    response = await client.post(JOBS, params={"dryRun": "true"}, json=body)
    assert response.status_code == 200, response.text
    rayjob = next(m for m in response.json()["manifests"] if m["kind"] == "RayJob")
    head = rayjob["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    assert {
        "name": "DB_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "db-credentials", "key": "password"}},
    } in head["env"]
    created = await client.post(JOBS, json=body)
    assert created.status_code == 201, created.text


@pytest.mark.parametrize("name", ["AWS_SECRET_ACCESS_KEY", "NUM_WORKER", "NOTE"])
async def test_a_secret_reference_may_not_shadow_another_variable(
    client: httpx.AsyncClient, name: str
) -> None:
    body = with_value(("secretEnv",), [{"name": name, "secretName": "s", "key": "k"}])
    body["customHyperparameters"] = {"note": "x"}
    response = await client.post(JOBS, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["details"][0]["loc"] == ["body", "secretEnv", 0, "name"]


def test_names_and_paths_mentioning_a_token_pass_but_variables_named_so_do_not() -> None:
    # Variable names are judged by name alone (*token*, *secret*, *password*, *_KEY): such a
    # variable must come from a Secret even when its value here would be harmless.
    body = {
        "jobName": "token-classifier",
        "inputDataConfig": [{"channelName": "tokens", "prefix": "data/secret-santa.csv"}],
        "entrypoint": "python tokenize.py --epochs 3",
        "customHyperparameters": {"MAX_TOKENS": 512, "tokenizer": "bpe"},
        "outputDataConfig": {"artifactUri": "s3://bucket/tokens/"},
    }
    assert credential_findings(body) == [
        {
            "loc": ["body", "customHyperparameters", "MAX_TOKENS"],
            "reason": "name says it holds a secret",
        },
        {
            "loc": ["body", "customHyperparameters", "tokenizer"],
            "reason": "name says it holds a secret",
        },
    ]
