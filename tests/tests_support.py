"""Small helpers shared by test modules."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
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


@asynccontextmanager
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An async HTTP client talking to ``app`` in-process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# The exact `hyperparameters.xgboost` object the existing UI sends (ui-contract.md).
UI_XGBOOST_HYPERPARAMETERS: dict[str, Any] = {
    "early_stopping_rounds": None,
    "csv_weights": 0,
    "num_round": 100,
    "booster": "gbtree",
    "verbosity": 1,
    "nthread": "auto",
    "eta": 0.3,
    "gamma": 0,
    "max_depth": 6,
    "min_child_weight": 1,
    "max_delta_step": 0,
    "subsample": 1,
    "sampling_method": "uniform",
    "colsample_bytree": 1,
    "colsample_bylevel": 1,
    "colsample_bynode": 1,
    "lambda": 1,
    "alpha": 0,
    "tree_method": "auto",
    "sketch_eps": 0.03,
    "scale_pos_weight": 1,
    "updater": "auto",
    "dsplit": "row",
    "refresh_leaf": 1,
    "process_type": "default",
    "grow_policy": "depthwise",
    "max_leaves": 0,
    "max_bin": 256,
    "num_parallel_tree": 1,
    "sample_type": "uniform",
    "normalize_type": "tree",
    "rate_drop": 0,
    "one_drop": 0,
    "skip_drop": 0,
    "lambda_bias": 0,
    "tweedie_variance_power": 1.5,
    "objective": "reg:squarederror",
    "base_score": 0.5,
    "eval_metric": ["rmse"],
}

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


# The exact request of ui-contract.md.
UI_REQUEST: dict[str, Any] = {
    "jobName": "iris-xgb",
    "priority": 100,
    "algorithm": {"source": "builtin", "algorithmName": "xgboost"},
    "resources": {
        "instanceResources": {"cpuCores": 4, "memoryGiB": 8, "gpuCount": 0},
        "instanceCount": 2,
        "volumeSizeGB": 50,
    },
    "stoppingCondition": {"maxRuntimeSeconds": 14400},
    "inputDataConfig": [
        {
            "id": "channel-k2j4h5g6a",
            "channelName": "train",
            "sourceType": "object-storage",
            "storageProvider": "minio",
            "endpoint": "http://minio:9000",
            "bucket": "datasets",
            "prefix": "iris/train.csv",
        },
        {
            "id": "channel-p9q8r7s6t",
            "channelName": "validation",
            "sourceType": "object-storage",
            "storageProvider": "minio",
            "endpoint": "http://minio:9000",
            "bucket": "datasets",
            "prefix": "iris/val.csv",
        },
    ],
    "outputDataConfig": {"artifactUri": "storage://output/artifacts/"},
    "hyperparameters": {"xgboost": UI_XGBOOST_HYPERPARAMETERS},
    "customHyperparameters": {},
    "targetClusters": ["member1"],
    "namespace": "default",
}
