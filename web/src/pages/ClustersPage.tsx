import { useQuery } from "@tanstack/react-query";
import { api } from "../api";
import type { Cluster } from "../api/types";
import { ErrorPanel, Empty, Loading } from "../components/States";
import { formatQuantity, parseQuantity } from "../components/quantity";

const RESOURCES = [
  { key: "cpu", label: "CPU", kind: "cpu" },
  { key: "memory", label: "Memory", kind: "memory" },
  { key: "gpu", label: "GPU", kind: "count" },
  { key: "pods", label: "Pods", kind: "count" },
] as const;

export default function ClustersPage() {
  const clusters = useQuery({
    queryKey: ["clusters"],
    queryFn: api.clusters,
    refetchInterval: 10000,
  });
  return (
    <section aria-labelledby="clusters-title">
      <h1 id="clusters-title">Member clusters</h1>
      {clusters.isPending ? (
        <Loading what="clusters" />
      ) : clusters.isError ? (
        <ErrorPanel error={clusters.error} onRetry={() => void clusters.refetch()} />
      ) : clusters.data.clusters.length === 0 ? (
        <Empty>
          <p>Karmada has no member clusters joined.</p>
        </Empty>
      ) : (
        <div className="cards">
          {clusters.data.clusters.map((cluster) => (
            <ClusterCard key={cluster.name} cluster={cluster} />
          ))}
        </div>
      )}
    </section>
  );
}

function ClusterCard({ cluster }: { cluster: Cluster }) {
  return (
    <article className="panel cluster" aria-labelledby={`cluster-${cluster.name}`}>
      <h2 id={`cluster-${cluster.name}`}>
        {cluster.name}{" "}
        <span className={`badge ${cluster.ready ? "status-succeeded" : "status-failed"}`}>
          {cluster.ready ? "Ready" : "Not ready"}
        </span>
      </h2>
      <dl className="facts">
        <dt>Region / zone</dt>
        <dd>{[cluster.region, cluster.zone].filter(Boolean).join(" / ") || "—"}</dd>
        <dt>Kubernetes</dt>
        <dd>{cluster.kubernetesVersion ?? "—"}</dd>
      </dl>
      {RESOURCES.map(({ key, label, kind }) => {
        const total = parseQuantity(cluster.capacity?.[key]);
        const used = parseQuantity(cluster.allocated?.[key]) ?? 0;
        const share = total ? Math.min(1, used / total) : 0;
        return (
          <div className="bar-row" key={key}>
            <span className="bar-label">{label}</span>
            <meter
              className="bar"
              min={0}
              max={1}
              value={share}
              aria-label={`${label} allocated on ${cluster.name}`}
            />
            <span className="small">
              {total === null
                ? "capacity unknown"
                : `${formatQuantity(used, kind)} of ${formatQuantity(total, kind)} (${Math.round(share * 100)}%)`}
            </span>
          </div>
        );
      })}
    </article>
  );
}
