"""Small helpers shared by test modules."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

KUBECONFIG = """
apiVersion: v1
kind: Config
clusters: [{name: karmada, cluster: {server: "https://127.0.0.1:5443"}}]
contexts: [{name: karmada, context: {cluster: karmada, user: admin}}]
current-context: karmada
users: [{name: admin, user: {}}]
"""


# What the ``app_factory`` fixture returns: ``async with app_factory(settings) as app``.
AppFactory = Callable[..., AbstractAsyncContextManager[FastAPI]]


def app_fixture(settings_fixture: str) -> Any:
    """A fixture: the app started by ``app_factory`` with the settings that the (synchronous)
    fixture named ``settings_fixture`` gives, e.g. ``live_app = app_fixture("live_settings")``
    in a conftest. That fixture must build on ``settings``, the test database's."""

    @pytest.fixture
    async def started_app(
        request: pytest.FixtureRequest, app_factory: AppFactory, settings: Any
    ) -> AsyncIterator[FastAPI]:
        # ``settings`` is named so that pytest sees the dependency on the test database and
        # runs the tests once per backend; the named fixture is looked up only at run time.
        async with app_factory(request.getfixturevalue(settings_fixture)) as app:
            yield app

    return started_app


@asynccontextmanager
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An async HTTP client talking to ``app`` in-process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


# The exact request of ui-contract.md, kept as the user-facing example.
EXAMPLE_REQUEST_FILE = Path(__file__).resolve().parents[1] / "examples" / "xgboost-job.json"
UI_REQUEST: dict[str, Any] = json.loads(EXAMPLE_REQUEST_FILE.read_text())

# The exact `hyperparameters.xgboost` object the existing UI sends (ui-contract.md).
UI_XGBOOST_HYPERPARAMETERS: dict[str, Any] = UI_REQUEST["hyperparameters"]["xgboost"]

# What the catalogue maps UI_XGBOOST_HYPERPARAMETERS to (the images' environment contract).
UI_XGBOOST_ENVIRONMENT: dict[str, str] = {
    "EARLY_STOPPING_ROUNDS": "",
    "CSV_WEIGHT": "0",
    "NUM_BOOST_ROUND": "100",
    "BOOSTER": "gbtree",
    "VERBOSITY": "1",
    "NTHREAD": "auto",
    "ETA": "0.3",
    "GAMMA": "0",
    "MAX_DEPTH": "6",
    "MIN_CHILD_WEIGHT": "1",
    "MAX_DELTA_STEP": "0",
    "SUBSAMPLE": "1",
    "SAMPLING_METHOD": "uniform",
    "COLSAMPLE_BYTREE": "1",
    "COLSAMPLE_BYLEVEL": "1",
    "COLSAMPLE_BYNODE": "1",
    "LAMBDA": "1",
    "ALPHA": "0",
    "TREE_METHOD": "auto",
    "SKETCH_EPS": "0.03",
    "SCALE_POS_WEIGHT": "1",
    "UPDATER": "auto",
    "DSPLIT": "row",
    "REFRESH_LEAF": "1",
    "PROCESS_TYPE": "default",
    "GROW_POLICY": "depthwise",
    "MAX_LEAVES": "0",
    "MAX_BIN": "256",
    "NUM_PARALLEL_TREE": "1",
    "SAMPLE_TYPE": "uniform",
    "NORMALIZE_TYPE": "tree",
    "RATE_DROP": "0",
    "ONE_DROP": "0",
    "SKIP_DROP": "0",
    "LAMBDA_BIAS": "0",
    "TWEEDIE_VARIANCE_POWER": "1.5",
    "OBJECTIVE": "reg:squarederror",
    "BASE_SCORE": "0.5",
    "EVAL_METRIC": "rmse",
}


def log_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """The JSON log lines written to ``stream`` (see the ``json_log`` fixture)."""
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
