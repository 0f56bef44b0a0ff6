"""Structural schemas of the custom kinds the simulator serves, written from the upstream API
definitions: KubeRay `ray.io/v1` (ray-operator/apis/ray/v1, config/crd/bases), Kubeflow
`kubeflow.org/v1` (training-operator v1.8 manifests/base/crds), MPIJob `kubeflow.org/v2beta1`
(mpi-operator manifests/base/kubeflow.org_mpijobs.yaml) and Karmada's policy, work and cluster
APIs (karmada charts/karmada/_crds/bases, pkg/apis/cluster/v1alpha1/types.go).

Pod templates refer to the official Kubernetes definitions (`io.k8s.api.core.v1.PodSpec`); their
metadata is the embedded ObjectMeta controller-gen writes with generateEmbeddedObjectMeta
(labels, annotations, finalizers, name, namespace). Defaults are upstream's `default`s of spec
fields; they fill absent fields before validation, as structural defaulting does.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

V1 = "io.k8s.api.core.v1."
META_V1 = "io.k8s.apimachinery.pkg.apis.meta.v1."


def _with(schema: Schema, desc: str) -> Schema:
    return {**schema, "description": desc} if desc else schema


def string(desc: str = "", **extra: Any) -> Schema:
    return _with({"type": "string", **extra}, desc)


def enum(*values: str, desc: str = "", **extra: Any) -> Schema:
    return string(desc, enum=list(values), **extra)


def int32(desc: str = "", **extra: Any) -> Schema:
    return _with({"type": "integer", "format": "int32", **extra}, desc)


def int64(desc: str = "", **extra: Any) -> Schema:
    return _with({"type": "integer", "format": "int64", **extra}, desc)


def boolean(desc: str = "", **extra: Any) -> Schema:
    return _with({"type": "boolean", **extra}, desc)


def number(desc: str = "") -> Schema:
    return _with({"type": "number"}, desc)


def timestamp(desc: str = "") -> Schema:
    return _with({"type": "string", "format": "date-time"}, desc)


def array(items: Schema, desc: str = "", **extra: Any) -> Schema:
    return _with({"type": "array", "items": items, **extra}, desc)


def strings(desc: str = "") -> Schema:
    return array(string(), desc)


def string_map(desc: str = "") -> Schema:
    return _with({"type": "object", "additionalProperties": {"type": "string"}}, desc)


def map_of(values: Schema, desc: str = "") -> Schema:
    return _with({"type": "object", "additionalProperties": values}, desc)


def obj(properties: dict[str, Schema], desc: str = "", required: tuple[str, ...] = ()) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return _with(schema, desc)


def ref(name: str, desc: str = "") -> Schema:
    """A Kubernetes definition, e.g. `ref(V1 + "PodSpec")`."""
    return _with({"$ref": f"#/$defs/{name}"}, desc)


def preserved(desc: str = "") -> Schema:
    """An object kept as sent (`x-kubernetes-preserve-unknown-fields`, as upstream has it)."""
    return _with({"type": "object", "x-kubernetes-preserve-unknown-fields": True}, desc)


EMBEDDED_META = obj(
    {
        "annotations": string_map(),
        "finalizers": strings(),
        "labels": string_map(),
        "name": string(),
        "namespace": string(),
    },
    "Standard object's metadata.",
)


def pod_template(desc: str) -> Schema:
    return obj({"metadata": EMBEDDED_META, "spec": ref(V1 + "PodSpec")}, desc)


def root(
    kind_desc: str, spec: Schema, status: Schema | None, required: tuple[str, ...] = ()
) -> Schema:
    """The top of a custom resource: apiVersion, kind, metadata (ObjectMeta), spec, status."""
    properties: dict[str, Schema] = {
        "apiVersion": string(
            "APIVersion defines the versioned schema of this representation of an object."
        ),
        "kind": string(
            "Kind is a string value representing the REST resource this object represents."
        ),
        "metadata": ref(META_V1 + "ObjectMeta", "Standard object's metadata."),
        "spec": spec,
    }
    if status is not None:
        properties["status"] = status
    return obj(properties, kind_desc, required)


CONDITIONS = array(ref(META_V1 + "Condition"), "Conditions of the object.")
LABEL_SELECTOR = ref(META_V1 + "LabelSelector")

# ------------------------------------------------------------------------------ ray.io/v1

RAY_STATUS_QUANTITY = ref("io.k8s.apimachinery.pkg.api.resource.Quantity")

HEAD_GROUP_SPEC = obj(
    {
        "enableIngress": boolean("Whether the operator creates an ingress for the head service."),
        "headService": preserved("The Kubernetes Service of the head pod."),
        "rayStartParams": string_map("Parameters of `ray start` on the head pod."),
        "serviceType": string("Type of the head service the workers connect to."),
        "template": pod_template("The pod template of the head pod."),
    },
    "The head pod of the Ray cluster.",
    ("template",),
)

WORKER_GROUP_SPEC = obj(
    {
        "groupName": string("The name of this worker group."),
        "idleTimeoutSeconds": int32(),
        "maxReplicas": int32(
            "The maximum number of worker pods in this group.", default=2147483647
        ),
        "minReplicas": int32("The minimum number of worker pods in this group.", default=0),
        "numOfHosts": int32("Hosts per replica (multi-host workers).", default=1),
        "rayStartParams": string_map("Parameters of `ray start` on the worker pods."),
        "replicas": int32("The desired number of worker pods in this group.", default=0),
        "scaleStrategy": obj({"workersToDelete": strings()}),
        "suspend": boolean(),
        "template": pod_template("The pod template of the worker pods."),
    },
    "A group of identical worker pods.",
    ("groupName", "maxReplicas", "minReplicas", "template"),
)

RAY_CLUSTER_SPEC = obj(
    {
        "autoscalerOptions": preserved("Configuration of the Ray autoscaler."),
        "enableInTreeAutoscaling": boolean("Whether the operator runs the Ray autoscaler."),
        "gcsFaultToleranceOptions": preserved("GCS fault tolerance."),
        "headGroupSpec": HEAD_GROUP_SPEC,
        "headServiceAnnotations": string_map(),
        "managedBy": string(),
        "rayVersion": string("The Ray version, which decides the submitter's command."),
        "suspend": boolean(),
        "workerGroupSpecs": array(WORKER_GROUP_SPEC, "The worker groups."),
    },
    "The Ray cluster.",
    ("headGroupSpec",),
)

RAY_CLUSTER_STATUS = obj(
    {
        "availableWorkerReplicas": int32(),
        "conditions": CONDITIONS,
        "desiredCPU": RAY_STATUS_QUANTITY,
        "desiredGPU": RAY_STATUS_QUANTITY,
        "desiredMemory": RAY_STATUS_QUANTITY,
        "desiredTPU": RAY_STATUS_QUANTITY,
        "desiredWorkerReplicas": int32(),
        "endpoints": string_map(),
        "head": obj(
            {
                "podIP": string(),
                "podName": string(),
                "serviceIP": string(),
                "serviceName": string(),
            }
        ),
        "lastUpdateTime": timestamp(),
        "maxWorkerReplicas": int32(),
        "minWorkerReplicas": int32(),
        "observedGeneration": int64(),
        "readyWorkerReplicas": int32(),
        "reason": string(),
        "state": string(),
        "stateTransitionTimes": map_of(timestamp()),
    },
    "The observed state of the Ray cluster.",
)

RAYJOB = root(
    "RayJob runs a Ray job on a Ray cluster it creates (or selects).",
    obj(
        {
            "activeDeadlineSeconds": int32(
                "Seconds the RayJob may be active before KubeRay fails it (DeadlineExceeded)."
            ),
            "backoffLimit": int32(
                "Retries before the job is marked failed; each builds a new RayCluster.",
                default=0,
            ),
            "clusterSelector": string_map("Labels selecting a running RayCluster to use."),
            "deletionStrategy": preserved("What is deleted when the job finishes."),
            "entrypoint": string("The command of the Ray job (`ray job submit ... -- <this>`)."),
            "entrypointNumCpus": number(),
            "entrypointNumGpus": number(),
            "entrypointResources": string(),
            "jobId": string("The Ray job's id; generated when not set."),
            "managedBy": string(),
            "metadata": string_map("Data stored with the Ray job."),
            "preRunningDeadlineSeconds": int32(minimum=1),
            "rayClusterSpec": RAY_CLUSTER_SPEC,
            "runtimeEnvYAML": string("The runtime environment, as a YAML string."),
            "shutdownAfterJobFinishes": boolean(
                "Whether the RayCluster is deleted once the job finishes."
            ),
            "submissionMode": string(
                "K8sJobMode, HTTPMode or InteractiveMode.", default="K8sJobMode"
            ),
            "submitterConfig": obj({"backoffLimit": int32()}),
            "submitterPodTemplate": pod_template("The pod that runs `ray job submit`."),
            "suspend": boolean("Whether the RayCluster is (to be) deleted and the job held."),
            "ttlSecondsAfterFinished": int32(
                "Seconds after the job finishes before its RayCluster is deleted.", default=0
            ),
        },
        "The desired state of the RayJob.",
    ),
    obj(
        {
            "dashboardURL": string(),
            "endTime": timestamp(),
            "failed": int32(),
            "jobDeploymentStatus": string(),
            "jobId": string(),
            "jobStatus": string(),
            "message": string(),
            "observedGeneration": int64(),
            "rayClusterName": string(),
            "rayClusterStatus": RAY_CLUSTER_STATUS,
            "reason": string(),
            "startTime": timestamp(),
            "succeeded": int32(),
        },
        "The observed state of the RayJob.",
    ),
)

RAYCLUSTER = root(
    "RayCluster is a Ray cluster: a head pod and groups of worker pods.",
    RAY_CLUSTER_SPEC,
    RAY_CLUSTER_STATUS,
)

# ----------------------------------------------------------------------- kubeflow.org

REPLICA_SPEC = obj(
    {
        "replicas": int32("The desired number of replicas of this type."),
        "restartPolicy": string("Always, OnFailure, Never or ExitCode."),
        "template": pod_template("The pod template of this replica type."),
    },
    "One replica type (Master, Worker, PS, Chief, Launcher, ...).",
)

SCHEDULING_POLICY = obj(
    {
        "minAvailable": int32(),
        "minResources": map_of(RAY_STATUS_QUANTITY),
        "priorityClass": string(),
        "queue": string(),
        "scheduleTimeoutSeconds": int32(),
    }
)


def run_policy(*, managed_by: bool) -> Schema:
    properties = {
        "activeDeadlineSeconds": int64("Seconds the job may be active before it is failed."),
        "backoffLimit": int32("Retries before the job is marked failed."),
        "cleanPodPolicy": string("Which pods are deleted when the job finishes."),
        "schedulingPolicy": SCHEDULING_POLICY,
        "suspend": boolean(default=False),
        "ttlSecondsAfterFinished": int32(),
    }
    if managed_by:
        properties["managedBy"] = string()
    return obj(properties, "Policies shared by all replica types.")


REPLICA_STATUS = obj(
    {
        "active": int32(),
        "failed": int32(),
        "labelSelector": LABEL_SELECTOR,
        "selector": string(),
        "succeeded": int32(),
    }
)

JOB_CONDITION = obj(
    {
        "lastTransitionTime": timestamp(),
        "lastUpdateTime": timestamp(),
        "message": string(),
        "reason": string(),
        "status": string(),
        "type": string(),
    },
    required=("status", "type"),
)

KUBEFLOW_STATUS = obj(
    {
        "completionTime": timestamp(),
        "conditions": array(JOB_CONDITION),
        "lastReconcileTime": timestamp(),
        "replicaStatuses": map_of(REPLICA_STATUS),
        "startTime": timestamp(),
    },
    "The observed state of the job.",
)

PYTORCHJOB = root(
    "PyTorchJob runs distributed PyTorch training.",
    obj(
        {
            "elasticPolicy": preserved("Elastic training (torchrun rendezvous)."),
            "nprocPerNode": string("Processes per node."),
            "pytorchReplicaSpecs": map_of(REPLICA_SPEC, "Replica types: Master and Worker."),
            "runPolicy": run_policy(managed_by=False),
        },
        "The desired state of the PyTorchJob.",
        ("pytorchReplicaSpecs",),
    ),
    KUBEFLOW_STATUS,
)

TFJOB = root(
    "TFJob runs distributed TensorFlow training.",
    obj(
        {
            "enableDynamicWorker": boolean(),
            "runPolicy": run_policy(managed_by=False),
            "successPolicy": string(),
            "tfReplicaSpecs": map_of(REPLICA_SPEC, "Replica types: Chief, PS, Worker, Evaluator."),
        },
        "The desired state of the TFJob.",
        ("tfReplicaSpecs",),
    ),
    KUBEFLOW_STATUS,
)

MPIJOB = root(
    "MPIJob runs an MPI program: a launcher and workers.",
    obj(
        {
            "launcherCreationPolicy": string(
                "AtStartup or WaitForWorkersReady.", default="AtStartup"
            ),
            "mpiImplementation": enum("OpenMPI", "Intel", "MPICH", default="OpenMPI"),
            "mpiReplicaSpecs": map_of(REPLICA_SPEC, "Replica types: Launcher and Worker."),
            "runLauncherAsWorker": boolean(default=False),
            "runPolicy": run_policy(managed_by=True),
            "slotsPerWorker": int32("Slots (processes) per worker.", default=1),
            "sshAuthMountPath": string(default="/root/.ssh"),
        },
        "The desired state of the MPIJob.",
        ("mpiReplicaSpecs",),
    ),
    KUBEFLOW_STATUS,
)

# ---------------------------------------------------------------------- karmada.io

FIELD_SELECTOR = obj(
    {
        "matchExpressions": array(
            obj(
                {"key": string(), "operator": string(), "values": strings()},
                required=("key", "operator"),
            )
        )
    }
)

CLUSTER_AFFINITY_FIELDS: dict[str, Schema] = {
    "clusterNames": strings("Clusters selected by name."),
    "exclude": strings("Clusters never selected."),
    "fieldSelector": FIELD_SELECTOR,
    "labelSelector": LABEL_SELECTOR,
}

PLACEMENT = obj(
    {
        "clusterAffinities": array(
            obj(
                {
                    "affinityName": string(maxLength=32, minLength=1),
                    **CLUSTER_AFFINITY_FIELDS,
                },
                required=("affinityName",),
            )
        ),
        "clusterAffinity": obj(CLUSTER_AFFINITY_FIELDS, "The clusters a workload may go to."),
        "clusterTolerations": array(ref(V1 + "Toleration")),
        "replicaScheduling": obj(
            {
                "replicaDivisionPreference": enum("Aggregated", "Weighted"),
                "replicaSchedulingType": enum("Duplicated", "Divided", default="Divided"),
                "weightPreference": preserved(),
            }
        ),
        "spreadConstraints": array(
            obj(
                {
                    "maxGroups": {"type": "integer"},
                    "minGroups": {"type": "integer"},
                    "spreadByField": enum(
                        "cluster",
                        "region",
                        "zone",
                        "provider",
                        desc="The cluster field to spread by.",
                    ),
                    "spreadByLabel": string(),
                }
            ),
            "How the workload is spread over groups of clusters.",
        ),
        "workloadAffinity": preserved(),
    },
    "Where the selected resources go.",
)

RESOURCE_SELECTOR = obj(
    {
        "apiVersion": string(),
        "kind": string(),
        "labelSelector": LABEL_SELECTOR,
        "name": string(),
        "namespace": string(),
    },
    required=("apiVersion", "kind"),
)

POLICY_SPEC = obj(
    {
        "activationPreference": enum("Lazy"),
        "association": boolean(),
        "conflictResolution": enum("Abort", "Overwrite", default="Abort"),
        "dependentOverrides": strings(),
        "failover": preserved("Failover behaviour."),
        "placement": PLACEMENT,
        "preemption": enum(
            "Always", "Never", desc="Whether it takes over claimed resources.", default="Never"
        ),
        "preserveResourcesOnDeletion": boolean(),
        "priority": int32("Which policy claims a resource when several match.", default=0),
        "propagateDeps": boolean("Whether dependencies are propagated with the workload."),
        "resourceSelectors": array(RESOURCE_SELECTOR, "The resources it selects.", minItems=1),
        "schedulePriority": obj(
            {
                "priorityClassName": string(),
                "priorityClassSource": enum("KubePriorityClass"),
            },
            required=("priorityClassName", "priorityClassSource"),
        ),
        "schedulerName": string(default="default-scheduler"),
        "suspension": preserved(),
    },
    "The desired behaviour of the policy.",
    ("resourceSelectors",),
)

PROPAGATION_POLICY = root(
    "PropagationPolicy decides how resources in its namespace are propagated to clusters.",
    POLICY_SPEC,
    None,
    ("spec",),
)

CLUSTER_PROPAGATION_POLICY = root(
    "ClusterPropagationPolicy decides how resources of any namespace (or cluster-scoped ones) "
    "are propagated to clusters.",
    POLICY_SPEC,
    None,
    ("spec",),
)

WORK = root(
    "Work holds the manifests Karmada applies to one member cluster.",
    obj(
        {
            "preserveResourcesOnDeletion": boolean(),
            "suspendDispatching": boolean(),
            "workload": obj(
                {"manifests": array(preserved(), "The resources to apply.")},
                "The resources to apply to the cluster.",
            ),
        },
        "The desired state of the Work.",
    ),
    obj(
        {
            "conditions": CONDITIONS,
            "manifestStatuses": array(
                obj(
                    {
                        "health": enum("Healthy", "Unhealthy", "Unknown"),
                        "identifier": obj(
                            {
                                "group": string(),
                                "kind": string(),
                                "name": string(),
                                "namespace": string(),
                                "ordinal": {"type": "integer"},
                                "resource": string(),
                                "version": string(),
                            },
                            required=("kind", "name", "ordinal", "resource", "version"),
                        ),
                        "status": preserved(),
                    },
                    required=("identifier",),
                )
            ),
        },
        "The observed state of the Work.",
    ),
    ("spec",),
)

TARGET_CLUSTER = obj({"name": string(), "replicas": int32()}, required=("name",))

RESOURCE_BINDING = root(
    "ResourceBinding binds one resource to the clusters it is scheduled to.",
    obj(
        {
            "clusters": array(TARGET_CLUSTER, "The clusters the resource is scheduled to."),
            "conflictResolution": enum("Abort", "Overwrite"),
            "failover": preserved(),
            "gracefulEvictionTasks": array(preserved()),
            "placement": PLACEMENT,
            "preserveResourcesOnDeletion": boolean(),
            "propagateDeps": boolean(),
            "replicaRequirements": preserved(),
            "replicas": int32(),
            "requiredBy": array(
                obj(
                    {"clusters": array(TARGET_CLUSTER), "name": string(), "namespace": string()},
                    required=("name",),
                )
            ),
            "rescheduleTriggeredAt": timestamp(),
            "resource": obj(
                {
                    "apiVersion": string(),
                    "kind": string(),
                    "name": string(),
                    "namespace": string(),
                    "resourceVersion": string(),
                    "uid": string(),
                },
                "The resource being bound.",
                ("apiVersion", "kind", "name"),
            ),
            "schedulePriority": obj({"priority": int32()}),
            "schedulerName": string(),
            "suspension": preserved(),
        },
        "The desired state of the binding.",
        ("resource",),
    ),
    obj(
        {
            "aggregatedStatus": array(
                obj(
                    {
                        "applied": boolean(),
                        "appliedMessage": string(),
                        "clusterName": string(),
                        "health": string(),
                        "status": preserved(),
                    },
                    required=("clusterName",),
                )
            ),
            "conditions": CONDITIONS,
            "lastScheduledTime": timestamp(),
            "schedulerObservedGeneration": int64(),
            "schedulerObservingAffinityName": string(),
        },
        "The observed state of the binding.",
    ),
    ("spec",),
)

CLUSTER = root(
    "Cluster is a member cluster joined to Karmada.",
    obj(
        {
            "apiEndpoint": string(),
            "id": string(),
            "impersonatorSecretRef": obj({"name": string(), "namespace": string()}),
            "insecureSkipTLSVerification": boolean(),
            "provider": string("The cluster's provider."),
            "proxyHeader": string_map(),
            "proxyURL": string(),
            "region": string("The cluster's region."),
            "resourceModels": array(preserved()),
            "secretRef": obj({"name": string(), "namespace": string()}),
            "syncMode": enum("Push", "Pull", desc="How resources reach the cluster."),
            "taints": array(ref(V1 + "Taint")),
            "zone": string("The cluster's zone."),
            "zones": strings(),
        },
        "The cluster's configuration.",
        ("syncMode",),
    ),
    obj(
        {
            "apiEnablements": array(preserved()),
            "conditions": CONDITIONS,
            "kubernetesVersion": string(),
            "nodeSummary": obj({"readyNum": int32(), "totalNum": int32()}),
            "remedyActions": strings(),
            "resourceSummary": preserved(),
        },
        "The cluster's observed state.",
    ),
    ("spec",),
)

# By kind: the schema of each custom kind the simulator serves, and of Karmada's Work and
# ClusterPropagationPolicy, which its controllers model without serving them over HTTP yet.
CUSTOM_SCHEMAS: dict[str, Schema] = {
    "RayJob": RAYJOB,
    "RayCluster": RAYCLUSTER,
    "PyTorchJob": PYTORCHJOB,
    "TFJob": TFJOB,
    "MPIJob": MPIJOB,
    "PropagationPolicy": PROPAGATION_POLICY,
    "ClusterPropagationPolicy": CLUSTER_PROPAGATION_POLICY,
    "Work": WORK,
    "ResourceBinding": RESOURCE_BINDING,
    "Cluster": CLUSTER,
}
