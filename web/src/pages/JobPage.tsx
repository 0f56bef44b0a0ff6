import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api } from "../api";
import { ApiError } from "../api/client";
import { FINAL_STATUSES, type Job } from "../api/types";
import { ErrorPanel, Empty, Loading } from "../components/States";
import { StatusBadge } from "../components/StatusBadge";
import { LogViewer } from "../components/LogViewer";
import { age, when } from "../components/time";

const LIVE_MS = 3000;

export default function JobPage() {
  const { id = "" } = useParams();
  const job = useQuery({
    queryKey: ["job", id],
    queryFn: () => api.getJob(id),
    refetchInterval: (query) =>
      query.state.error instanceof ApiError && query.state.error.status === 404 ? false : LIVE_MS,
  });

  if (job.isPending) return <Loading what="the job" />;
  if (job.isError && (!job.data || (job.error instanceof ApiError && job.error.status === 404))) {
    if (job.error instanceof ApiError && job.error.status === 404) {
      return (
        <Empty>
          <h1>Job not found</h1>
          <p>
            There is no job <code>{id}</code>: it was deleted, or the address is wrong.{" "}
            <Link to="/">Back to the jobs</Link>
          </p>
        </Empty>
      );
    }
    return <ErrorPanel error={job.error} onRetry={() => void job.refetch()} />;
  }
  return <JobDetails job={job.data} refreshError={job.error} />;
}

function JobDetails({ job, refreshError }: { job: Job; refreshError: Error | null }) {
  const final = FINAL_STATUSES.includes(job.status);
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ["job", job.id] });
  const stop = useMutation({ mutationFn: () => api.stopJob(job.id), onSuccess: refresh });
  const remove = useMutation({
    mutationFn: () => api.deleteJob(job.id),
    onSuccess: () => {
      queryClient.removeQueries({ queryKey: ["job", job.id] });
      navigate("/", { replace: true });
    },
  });
  const busy = job.status === "Stopping" || job.status === "Deleting";

  return (
    <article aria-labelledby="job-title">
      <div className="page-head">
        <div>
          <p className="crumbs">
            <Link to="/">Jobs</Link> /
          </p>
          <h1 id="job-title">
            {job.jobName} <StatusBadge status={job.status} />
          </h1>
          <p className="muted small">{job.id}</p>
        </div>
        <div className="actions">
          <button
            type="button"
            disabled={final || busy || stop.isPending}
            onClick={() => window.confirm(`Stop job ${job.jobName}? Its workload leaves the clusters; the record stays.`) && stop.mutate()}
          >
            {stop.isPending ? "Stopping…" : "Stop"}
          </button>
          <button
            type="button"
            className="danger"
            disabled={job.status === "Deleting" || remove.isPending}
            onClick={() => window.confirm(`Delete job ${job.jobName} and everything it created? This cannot be undone.`) && remove.mutate()}
          >
            {remove.isPending ? "Deleting…" : "Delete"}
          </button>
        </div>
      </div>
      {refreshError && (
        <p className="notice warn" role="alert">
          Refresh failed ({refreshError.message}); showing the job as of the last answer.
        </p>
      )}
      {(stop.error ?? remove.error) && <ErrorPanel error={stop.error ?? remove.error} />}
      {job.message && (
        <p className={`notice ${job.status === "Failed" ? "warn" : ""}`} aria-live="polite">
          <strong>{job.reason ?? job.status}:</strong> {job.message}
        </p>
      )}

      <div className="columns">
        <section className="panel" aria-labelledby="summary-title">
          <h2 id="summary-title">Summary</h2>
          <dl className="facts">
            <dt>Algorithm</dt>
            <dd>{job.algorithm} ({job.workloadKind})</dd>
            <dt>Namespace</dt>
            <dd>{job.namespace}</dd>
            <dt>Priority</dt>
            <dd>{job.priority}</dd>
            <dt>Clusters</dt>
            <dd>
              {(job.clusters ?? []).join(", ") || "not placed yet"}
              {job.targetClusters.length > 0 && (
                <span className="muted"> (candidates: {job.targetClusters.join(", ")})</span>
              )}
            </dd>
            <dt>Created</dt>
            <dd>
              {when(job.createdAt)} ({age(job.createdAt)} ago)
            </dd>
            <dt>Submitted</dt>
            <dd>{when(job.submittedAt)}</dd>
            <dt>Started</dt>
            <dd>{when(job.startedAt)}</dd>
            <dt>Completed</dt>
            <dd>{when(job.completedAt)}</dd>
            <dt>Updated</dt>
            <dd>{when(job.updatedAt)}</dd>
          </dl>
        </section>
        <LiveStatus id={job.id} final={final} />
      </div>

      <Timeline id={job.id} updatedAt={job.updatedAt} />

      <section className="panel" aria-labelledby="logs-title">
        <h2 id="logs-title">Driver log</h2>
        <LogViewer id={job.id} status={job.status} />
      </section>

      <section className="panel" aria-labelledby="request-title">
        <h2 id="request-title">Request as submitted</h2>
        <details>
          <summary>Show the JSON request</summary>
          <pre tabIndex={0}>{JSON.stringify(job.request, null, 2)}</pre>
        </details>
      </section>
    </article>
  );
}

function LiveStatus({ id, final }: { id: string; final: boolean }) {
  const status = useQuery({
    queryKey: ["job-status", id, final],
    queryFn: () => api.jobStatus(id),
    refetchInterval: final ? false : LIVE_MS,
  });
  return (
    <section className="panel" aria-labelledby="live-title">
      <h2 id="live-title">Live status</h2>
      {status.isPending ? (
        <Loading what="live status" />
      ) : status.isError ? (
        <ErrorPanel error={status.error} title="Live status unavailable" />
      ) : (
        <dl className="facts">
          <dt>Phase</dt>
          <dd>
            <StatusBadge status={status.data.phase} />
            {status.data.reason && <span className="muted"> {status.data.reason}</span>}
          </dd>
          {status.data.message && (
            <>
              <dt>Message</dt>
              <dd>{status.data.message}</dd>
            </>
          )}
          <dt>Pods</dt>
          <dd>
            {status.data.active ?? 0} active, {status.data.succeeded ?? 0} succeeded,{" "}
            {status.data.failed ?? 0} failed
          </dd>
          <dt>Per cluster</dt>
          <dd>
            {status.data.clusterDistribution && Object.keys(status.data.clusterDistribution).length > 0
              ? Object.entries(status.data.clusterDistribution)
                  .map(([cluster, count]) => `${cluster}: ${count}`)
                  .join(", ")
              : "—"}
          </dd>
          <dt>Started</dt>
          <dd>{when(status.data.startTime)}</dd>
          <dt>Completed</dt>
          <dd>{when(status.data.completionTime)}</dd>
        </dl>
      )}
    </section>
  );
}

function Timeline({ id, updatedAt }: { id: string; updatedAt: string }) {
  // The events change only when the job does: refetch when its updatedAt moves.
  const events = useQuery({
    queryKey: ["job-events", id, updatedAt],
    queryFn: () => api.jobEvents(id),
    placeholderData: (previous) => previous,
  });
  return (
    <section className="panel" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline</h2>
      {events.isPending ? (
        <Loading what="events" />
      ) : events.isError ? (
        <ErrorPanel error={events.error} title="Events unavailable" />
      ) : (
        <ol className="timeline">
          {events.data.map((event) => (
            <li key={event.id}>
              <time dateTime={event.occurredAt}>{when(event.occurredAt)}</time>{" "}
              {event.fromStatus ? `${event.fromStatus} → ` : ""}
              <StatusBadge status={event.toStatus} />
              {event.cluster && <span className="muted"> on {event.cluster}</span>}
              {(event.reason ?? event.message) && (
                <div className="muted small">
                  {[event.reason, event.message].filter(Boolean).join(": ")}
                </div>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
