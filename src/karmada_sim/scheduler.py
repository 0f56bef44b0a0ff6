"""Karmada's scheduler for one binding: filter clusters by taints and affinity, score them,
then select by spread constraints. Pure: placement and Cluster objects in, chosen cluster
names out.

Facts from karmada-io/karmada v1.18.2 pkg/scheduler: the in-tree plugins are APIEnablement,
TaintToleration, ClusterAffinity, SpreadConstraint, ClusterLocality and ClusterEviction; of
the scorers ClusterAffinity always gives 0 and ClusterLocality gives 100 to a cluster the
binding is already on (when it is on any), and scores add up. Candidates are ordered by score
(descending), then available replicas (descending), then name (core/spreadconstraint
sortClusters). Available replicas come from the general estimator: without replica
requirements, the pods a cluster can still take by its resourceSummary (allocatable -
allocated - allocating; none without a summary).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

NOT_READY_TAINT = "cluster.karmada.io/not-ready"
MAX_CLUSTER_SCORE = 100
# Karmada weighs a region group's feasible cluster count above its clusters' average score.
GROUP_WEIGHT_UNIT = 1000
EVICTED = "cluster(s) had been evicted"
AFFINITY_MISMATCH = "cluster(s) did not match the placement cluster affinity constraint"


@dataclass(frozen=True)
class ScheduleResult:
    """The outcome: the chosen clusters, or why none could be chosen."""

    clusters: tuple[str, ...]
    reason: str
    """`Success`, `NoClusterFit` (a filter left no cluster) or `SchedulerError`."""
    message: str

    @property
    def scheduled(self) -> bool:
        """Whether at least one cluster was chosen."""
        return self.reason == "Success"


def label_selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A metav1.LabelSelector (matchLabels + matchExpressions) against `labels`.

    An empty or missing selector matches everything, as in Kubernetes.
    """
    if not selector:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _field_values(cluster: Mapping[str, Any], key: str) -> list[str]:
    spec = cluster.get("spec") or {}
    if key == "zone":
        zones = list(spec.get("zones") or [])
        return zones + ([spec["zone"]] if spec.get("zone") else [])
    value = spec.get(key)
    return [value] if value else []


def affinity_matches(term: Mapping[str, Any], cluster: Mapping[str, Any]) -> bool:
    """Whether a cluster satisfies one ClusterAffinity term."""
    name = cluster["metadata"]["name"]
    names = term.get("clusterNames") or []
    if names and name not in names:
        return False
    if name in (term.get("exclude") or []):
        return False
    if not label_selector_matches(
        term.get("labelSelector"), cluster["metadata"].get("labels") or {}
    ):
        return False
    for expression in (term.get("fieldSelector") or {}).get("matchExpressions") or []:
        values = _field_values(cluster, str(expression.get("key")))
        wanted = expression.get("values") or []
        hit = any(v in wanted for v in values)
        if expression.get("operator") == "In" and not hit:
            return False
        if expression.get("operator") == "NotIn" and hit:
            return False
    return True


def toleration_for(
    taint: Mapping[str, Any], tolerations: Sequence[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """The first toleration that tolerates `taint`, or None."""
    for toleration in tolerations:
        effect = toleration.get("effect")
        if effect and effect != taint.get("effect"):
            continue
        key = toleration.get("key")
        if toleration.get("operator") == "Exists":
            if not key or key == taint.get("key"):
                return toleration
        elif key == taint.get("key") and toleration.get("value", "") == taint.get("value", ""):
            return toleration
    return None


def _untolerated_taint(
    cluster: Mapping[str, Any], tolerations: Sequence[Mapping[str, Any]]
) -> str | None:
    for taint in (cluster.get("spec") or {}).get("taints") or []:
        if taint.get("effect") not in ("NoSchedule", "NoExecute"):
            continue
        if toleration_for(taint, tolerations) is None:
            value = f"={taint['value']}" if taint.get("value") else ""
            text = f"{taint.get('key')}{value}:{taint.get('effect')}"
            return f"cluster(s) had untolerated taint {{{text}}}"
    return None


def available_replicas(cluster: Mapping[str, Any]) -> int:
    """Pods the cluster can still take, as Karmada's general estimator counts them for a
    binding without replica requirements (0 without a resourceSummary)."""
    summary = (cluster.get("status") or {}).get("resourceSummary")
    if not summary:
        return 0

    def pods(part: str) -> int:
        return int(float(str((summary.get(part) or {}).get("pods") or 0)))

    return max(0, pods("allocatable") - pods("allocated") - pods("allocating"))


@dataclass(frozen=True)
class _Candidate:
    name: str
    region: str
    score: int
    available: int

    @property
    def order(self) -> tuple[int, int, str]:
        return (-self.score, -self.available, self.name)


def schedule(
    placement: Mapping[str, Any],
    clusters: Sequence[Mapping[str, Any]],
    *,
    current: Sequence[str] = (),
    replicas: int = 0,
    evicted: Sequence[str] = (),
) -> ScheduleResult:
    """Choose clusters for a binding currently on `current` that wants `replicas` each.

    Affinity terms are tried in order (`clusterAffinities` fallbacks, else `clusterAffinity`);
    taints (a NotReady cluster carries `cluster.karmada.io/not-ready:NoSchedule`) filter first.
    Clusters the binding is being evicted from are filtered out (ClusterEviction plugin).
    Feasible clusters are ordered by score, available replicas and name; spread constraints
    then pick from that order.
    """
    tolerations = placement.get("clusterTolerations") or []
    terms = [
        term for term in placement.get("clusterAffinities") or [] if isinstance(term, Mapping)
    ] or [placement.get("clusterAffinity") or {}]
    feasible: list[Mapping[str, Any]] = []
    reasons: Counter[str] = Counter()
    for term in terms:
        feasible, reasons = [], Counter()
        for cluster in clusters:
            why = _untolerated_taint(cluster, tolerations)
            if why is None and cluster["metadata"]["name"] in evicted:
                why = EVICTED
            if why is None and not affinity_matches(term, cluster):
                why = AFFINITY_MISMATCH
            if why is None:
                feasible.append(cluster)
            else:
                reasons[why] += 1
        if feasible:
            break
    if not feasible:
        histogram = ", ".join(sorted(f"{count} {why}" for why, count in reasons.items()))
        return ScheduleResult(
            (), "NoClusterFit", f"0/{len(clusters)} clusters are available: {histogram}."
        )
    candidates = sorted(
        (
            _Candidate(
                name=c["metadata"]["name"],
                region=(c.get("spec") or {}).get("region") or "",
                score=MAX_CLUSTER_SCORE if c["metadata"]["name"] in current else 0,
                available=available_replicas(c),
            )
            for c in feasible
        ),
        key=lambda c: c.order,
    )
    by_field = {c.get("spreadByField"): c for c in placement.get("spreadConstraints") or []}
    if "region" in by_field:
        chosen = _by_region(candidates, by_field["region"], by_field.get("cluster") or {}, replicas)
        if isinstance(chosen, str):
            return ScheduleResult((), "SchedulerError", chosen)
    elif "cluster" in by_field:
        spread = by_field["cluster"]
        if len(candidates) < int(spread.get("minGroups") or 1):
            return ScheduleResult(
                (),
                "SchedulerError",
                "the number of feasible clusters is less than spreadConstraint.MinGroups",
            )
        chosen = candidates[: int(spread.get("maxGroups") or len(candidates))]
    else:
        chosen = candidates
    names = tuple(sorted(c.name for c in chosen))
    return ScheduleResult(names, "Success", "Binding has been scheduled successfully.")


def _by_region(
    candidates: list[_Candidate],
    region_spread: Mapping[str, Any],
    cluster_spread: Mapping[str, Any],
    replicas: int,
) -> list[_Candidate] | str:
    """Karmada's selectBestClustersByRegion: the fewest regions (from minGroups up to
    maxGroups) with the best total group score that hold enough clusters for the cluster
    constraint's minGroups; the best cluster of each, then the best of the rest up to the
    cluster constraint's maxGroups. Returns the clusters or the scheduler's error."""
    regions: dict[str, list[_Candidate]] = {}
    for candidate in candidates:
        regions.setdefault(candidate.region, []).append(candidate)
    min_regions = int(region_spread.get("minGroups") or 1)
    if len(regions) < min_regions:
        return "the number of feasible region is less than spreadConstraint.MinGroups"

    def group_score(members: list[_Candidate]) -> int:
        valid = [c for c in members if c.available >= replicas]
        if not valid:
            return 0
        return len(valid) * GROUP_WEIGHT_UNIT + sum(c.score for c in valid) // len(valid)

    ranked = sorted(regions, key=lambda r: (-group_score(regions[r]), r))
    max_regions = min(int(region_spread.get("maxGroups") or len(ranked)), len(ranked))
    need_clusters = int(cluster_spread.get("minGroups") or 0)
    selected: tuple[str, ...] = ()
    for count in range(min_regions, max_regions + 1):
        fitting = [
            combo
            for combo in itertools.combinations(ranked, count)
            if sum(len(regions[r]) for r in combo) >= need_clusters
        ]
        if fitting:
            selected = max(fitting, key=lambda combo: sum(group_score(regions[r]) for r in combo))
            break
    if not selected:
        return "the number of clusters is less than the cluster spreadConstraint.MinGroups"
    chosen = [regions[r][0] for r in selected]
    rest = sorted((c for r in selected for c in regions[r][1:]), key=lambda c: c.order)
    wanted = min(len(chosen) + len(rest), int(cluster_spread.get("maxGroups") or 0))
    return chosen + rest[: max(0, wanted - len(chosen))]
