"""Selector grammar and patch semantics, as pure functions."""

from __future__ import annotations

from typing import Any

import pytest

from karmada_sim.errors import ApiError
from karmada_sim.patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from karmada_sim.selectors import (
    label_selector_from_object,
    parse_field_selector,
    parse_label_selector,
)
from karmada_sim.tables import human_duration

LABELS = {"app": "ray", "tier": "gold", "shard": "7", "empty": ""}


@pytest.mark.parametrize(
    ("selector", "selected"),
    [
        ("", True),
        ("app=ray", True),
        ("app==ray", True),
        ("app = ray , tier = gold", True),
        ("app!=ray", False),
        ("missing!=x", True),
        ("app in (ray, spark)", True),
        ("app in (spark)", False),
        ("app notin (spark)", True),
        ("missing notin (x)", True),
        ("tier", True),
        ("missing", False),
        ("!missing", True),
        ("!tier", False),
        ("shard>5", True),
        ("shard<5", False),
        ("app>5", False),
        ("empty=", True),
        ("example.com/team=a", False),
    ],
)
def test_label_selector_grammar(selector: str, selected: bool) -> None:
    assert parse_label_selector(selector).matches(LABELS) is selected


@pytest.mark.parametrize(
    "selector",
    ["app in (ray", "app in ray", "=x", "app=ray,", "a b", "app=(", "Bad Key=x", "x>y"],
)
def test_label_selector_syntax_errors_are_400(selector: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_label_selector(selector)
    assert caught.value.code == 400


def test_label_selector_objects() -> None:
    selector = label_selector_from_object(
        {
            "matchLabels": {"app": "ray"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["gold"]}],
        }
    )
    assert selector.matches(LABELS)
    assert not selector.matches({"app": "ray"})
    assert label_selector_from_object({}).matches({})
    assert not label_selector_from_object(None).matches(LABELS)


def test_field_selectors() -> None:
    pod = {"metadata": {"name": "p", "namespace": "a"}, "status": {"phase": "Running"}}
    allowed = ("metadata.name", "metadata.namespace", "status.phase")
    assert parse_field_selector("status.phase=Running,metadata.name==p", allowed).matches(pod)
    assert not parse_field_selector("status.phase!=Running", allowed).matches(pod)
    with pytest.raises(ApiError) as caught:
        parse_field_selector("spec.nodeName=x", allowed)
    assert caught.value.message == (
        '"spec.nodeName" is not a known field selector: only "metadata.name", '
        '"metadata.namespace", "status.phase"'
    )


def test_merge_patch_rfc7386() -> None:
    target = {"a": "b", "c": {"d": "e", "f": "g"}, "list": [1, 2]}
    patch = {"a": "z", "c": {"f": None}, "list": [3]}
    assert merge_patch(target, patch) == {"a": "z", "c": {"d": "e"}, "list": [3]}
    assert target["c"] == {"d": "e", "f": "g"}


def test_json_patch_rfc6902() -> None:
    doc: dict[str, Any] = {"spec": {"items": ["a", "c"], "x": 1}, "m/n": {"~k": 1}}
    ops = [
        {"op": "add", "path": "/spec/items/1", "value": "b"},
        {"op": "add", "path": "/spec/items/-", "value": "d"},
        {"op": "replace", "path": "/spec/x", "value": 2},
        {"op": "copy", "from": "/spec/x", "path": "/spec/y"},
        {"op": "move", "from": "/spec/y", "path": "/spec/z"},
        {"op": "remove", "path": "/m~1n/~0k"},
        {"op": "test", "path": "/spec/z", "value": 2},
    ]
    assert json_patch(doc, ops) == {
        "spec": {"items": ["a", "b", "c", "d"], "x": 2, "z": 2},
        "m/n": {},
    }
    assert doc["spec"]["items"] == ["a", "c"]


@pytest.mark.parametrize(
    "ops",
    [
        [{"op": "remove", "path": "/nope"}],
        [{"op": "replace", "path": "/spec/missing", "value": 1}],
        [{"op": "test", "path": "/spec", "value": {}}],
        [{"op": "add", "path": "/spec/list/9", "value": 1}],
        [{"op": "frobnicate", "path": "/spec"}],
        {"op": "add"},
    ],
)
def test_json_patch_errors(ops: Any) -> None:
    with pytest.raises(PatchError):
        json_patch({"spec": {"list": [], "a": 1}}, ops)


def test_strategic_merge_patch_merges_named_lists() -> None:
    pod = {
        "metadata": {"finalizers": ["a"]},
        "spec": {
            "containers": [
                {"name": "main", "image": "v1", "env": [{"name": "A", "value": "1"}]},
                {"name": "sidecar", "image": "s"},
            ],
            "tolerations": [{"key": "x"}],
        },
    }
    patch = {
        "metadata": {"finalizers": ["b"]},
        "spec": {
            "containers": [
                {"name": "main", "image": "v2", "env": [{"name": "B", "value": "2"}]},
                {"name": "sidecar", "$patch": "delete"},
            ],
            "tolerations": [{"key": "y"}],
        },
    }
    assert strategic_merge_patch(pod, patch) == {
        "metadata": {"finalizers": ["a", "b"]},
        "spec": {
            "containers": [
                {
                    "name": "main",
                    "image": "v2",
                    "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                }
            ],
            "tolerations": [{"key": "y"}],
        },
    }
    replaced = strategic_merge_patch(
        {"data": {"a": "1"}}, {"data": {"$patch": "replace", "b": "2"}}
    )
    assert replaced == {"data": {"b": "2"}}


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (5, "5s"),
        (119, "119s"),
        (150, "2m30s"),
        (600, "10m"),
        (3 * 3600 + 60, "3h1m"),
        (20 * 3600, "20h"),
        (3 * 86400 + 3600, "3d1h"),
        (40 * 86400, "40d"),
        (-5, "<invalid>"),
    ],
)
def test_ages_read_like_kubectl(seconds: float, shown: str) -> None:
    assert human_duration(seconds) == shown
