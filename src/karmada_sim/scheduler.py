"""Karmada's scheduler for one binding: filter clusters by taints and affinity, then select
by spread constraints. Pure: placement and Cluster objects in, chosen cluster names out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

NOT_READY_TAINT = "cluster.karmada.io/not-ready"
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


def _tolerated(taint: Mapping[str, Any], tolerations: Sequence[Mapping[str, Any]]) -> bool:
    for toleration in tolerations:
        effect = toleration.get("effect")
        if effect and effect != taint.get("effect"):
            continue
        key = toleration.get("key")
        if toleration.get("operator") == "Exists":
            if not key or key == taint.get("key"):
                return True
        elif key == taint.get("key") and toleration.get("value", "") == taint.get("value", ""):
            return True
    return False


def _untolerated_taint(
    cluster: Mapping[str, Any], tolerations: Sequence[Mapping[str, Any]]
) -> str | None:
    for taint in (cluster.get("spec") or {}).get("taints") or []:
        if taint.get("effect") not in ("NoSchedule", "NoExecute"):
            continue
        if not _tolerated(taint, tolerations):
            value = f"={taint['value']}" if taint.get("value") else ""
            text = f"{taint.get('key')}{value}:{taint.get('effect')}"
            return f"cluster(s) had untolerated taint {{{text}}}"
    return None


def schedule(
    placement: Mapping[str, Any],
    clusters: Sequence[Mapping[str, Any]],
    *,
    current: Sequence[str] = (),
    load: Mapping[str, int] | None = None,
) -> ScheduleResult:
    """Choose clusters for a binding.

    Affinity terms are tried in order (`clusterAffinities` fallbacks, else `clusterAffinity`);
    taints (a NotReady cluster carries `cluster.karmada.io/not-ready:NoSchedule`) filter first.
    Ties between feasible clusters go to clusters already holding the workload, then to the
    least loaded, then by name.
    """
    load = load or {}
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

    def score(cluster: Mapping[str, Any]) -> tuple[int, int, str]:
        name = cluster["metadata"]["name"]
        return (0 if name in current else 1, load.get(name, 0), name)

    feasible.sort(key=score)
    by_field = {c.get("spreadByField"): c for c in placement.get("spreadConstraints") or []}
    chosen = feasible
    region = by_field.get("region")
    if region is not None:
        regions: list[str] = []
        for cluster in feasible:
            value = (cluster.get("spec") or {}).get("region") or ""
            if value not in regions:
                regions.append(value)
        if len(regions) < int(region.get("minGroups") or 1):
            return ScheduleResult(
                (),
                "SchedulerError",
                "the number of feasible region is less than spreadConstraint.MinGroups",
            )
        keep = set(regions[: int(region.get("maxGroups") or len(regions))])
        chosen = [c for c in chosen if ((c.get("spec") or {}).get("region") or "") in keep]
    cluster_spread = by_field.get("cluster")
    if cluster_spread is not None:
        if len(chosen) < int(cluster_spread.get("minGroups") or 1):
            return ScheduleResult(
                (),
                "SchedulerError",
                "the number of feasible clusters is less than spreadConstraint.MinGroups",
            )
        chosen = chosen[: int(cluster_spread.get("maxGroups") or len(chosen))]
    names = tuple(sorted(c["metadata"]["name"] for c in chosen))
    return ScheduleResult(names, "Success", "Binding has been scheduled successfully.")
