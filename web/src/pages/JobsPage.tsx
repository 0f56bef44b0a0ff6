import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { memo, useEffect, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { api } from "../api";
import { JOB_STATUSES, type Job, type ListFilters } from "../api/types";
import { ErrorPanel, Empty, Loading } from "../components/States";
import { StatusBadge } from "../components/StatusBadge";
import { age, when } from "../components/time";

export const REFRESH_MS = 5000;
const PAGE_SIZES = [25, 50, 100, 250];
const FILTER_KEYS = ["status", "algorithm", "namespace", "q"] as const;

/** The filters and page size, kept in the address so a reload or a shared link keeps them. */
function useListFilters() {
  const [params, setParams] = useSearchParams();
  const filters: ListFilters = { limit: Number(params.get("limit")) || 50 };
  for (const key of FILTER_KEYS) {
    const value = params.get(key);
    if (value) filters[key] = value;
  }
  const update = (changes: Partial<Record<(typeof FILTER_KEYS)[number] | "limit", string>>) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    setParams(next, { replace: true });
  };
  return { filters, update };
}

export function JobsPage() {
  const { filters, update } = useListFilters();
  // The pages walked so far: the URL of each (from the Link header); null is the first page.
  // Other filters start again at the first page.
  const filterKey = JSON.stringify(filters);
  const [walked, setWalked] = useState({ key: filterKey, trail: [null] as (string | null)[] });
  const trail = walked.key === filterKey ? walked.trail : [null];
  const setTrail = (next: (string | null)[]) => setWalked({ key: filterKey, trail: next });
  const pageUrl = trail[trail.length - 1] ?? null;

  // One request for the page on screen and one for the counts, every 5 s, however many jobs.
  const jobs = useQuery({
    queryKey: ["jobs", filters, pageUrl],
    queryFn: () => api.listJobs(filters, pageUrl),
    refetchInterval: REFRESH_MS,
    placeholderData: keepPreviousData,
  });
  const { status: _status, limit: _limit, ...countFilters } = filters;
  const counts = useQuery({
    queryKey: ["job-counts", countFilters],
    queryFn: () => api.countJobs(countFilters),
    refetchInterval: REFRESH_MS,
    placeholderData: keepPreviousData,
  });

  return (
    <section aria-labelledby="jobs-title">
      <div className="page-head">
        <h1 id="jobs-title">Training jobs</h1>
        <Link className="button primary" to="/jobs/new">
          New job
        </Link>
      </div>

      <div className="counts" role="group" aria-label="Jobs per status (click to filter)">
        <button
          type="button"
          className="count"
          aria-pressed={!filters.status}
          onClick={() => update({ status: "" })}
        >
          All <strong>{counts.data?.total ?? "…"}</strong>
        </button>
        {JOB_STATUSES.map((status) => (
          <button
            key={status}
            type="button"
            className={`count status-${status.toLowerCase()}`}
            aria-pressed={filters.status === status}
            onClick={() => update({ status: filters.status === status ? "" : status })}
          >
            {status} <strong>{counts.data ? (counts.data.counts[status] ?? 0) : "…"}</strong>
          </button>
        ))}
      </div>

      <Filters filters={filters} update={update} />

      {jobs.isPending ? (
        <Loading what="jobs" />
      ) : jobs.isError && !jobs.data ? (
        <ErrorPanel error={jobs.error} onRetry={() => void jobs.refetch()} />
      ) : (
        <>
          {jobs.isError && (
            <p className="notice warn" role="alert">
              Refresh failed ({jobs.error.message}); showing the jobs as of the last answer.
            </p>
          )}
          {jobs.data && jobs.data.items.length > 0 ? (
            <JobTable jobs={jobs.data.items} now={jobs.dataUpdatedAt} />
          ) : (
            <Empty>
              {Object.keys(filters).length > 1 ? (
                <p>No job matches these filters.</p>
              ) : (
                <p>
                  No jobs yet. <Link to="/jobs/new">Create the first one</Link>.
                </p>
              )}
            </Empty>
          )}
          <nav className="pager" aria-label="Pages">
            <button
              type="button"
              disabled={trail.length === 1}
              onClick={() => setTrail(trail.slice(0, -1))}
            >
              ← Previous
            </button>
            <span>Page {trail.length}</span>
            <button
              type="button"
              disabled={!jobs.data?.next}
              onClick={() => jobs.data?.next && setTrail([...trail, jobs.data.next])}
            >
              Next →
            </button>
            <label>
              Per page{" "}
              <select
                value={filters.limit}
                onChange={(event) => update({ limit: event.target.value })}
              >
                {PAGE_SIZES.map((size) => (
                  <option key={size}>{size}</option>
                ))}
              </select>
            </label>
          </nav>
        </>
      )}
    </section>
  );
}

function Filters({
  filters,
  update,
}: {
  filters: ListFilters;
  update: ReturnType<typeof useListFilters>["update"];
}) {
  // The search box updates the address when typing pauses, not on every key.
  const [q, setQ] = useState(filters.q ?? "");
  useEffect(() => {
    const timer = setTimeout(() => {
      if ((filters.q ?? "") !== q) update({ q });
    }, 300);
    return () => clearTimeout(timer);
  });
  const algorithms = useQuery({ queryKey: ["algorithms"], queryFn: api.algorithms, staleTime: Infinity });
  return (
    <form className="filters" role="search" onSubmit={(event) => event.preventDefault()}>
      <label>
        Search
        <input
          type="search"
          value={q}
          placeholder="name or id"
          onChange={(event) => setQ(event.target.value)}
        />
      </label>
      <label>
        Status
        <select value={filters.status ?? ""} onChange={(e) => update({ status: e.target.value })}>
          <option value="">any</option>
          {JOB_STATUSES.map((status) => (
            <option key={status}>{status}</option>
          ))}
        </select>
      </label>
      <label>
        Algorithm
        <select
          value={filters.algorithm ?? ""}
          onChange={(e) => update({ algorithm: e.target.value })}
        >
          <option value="">any</option>
          {(algorithms.data ?? []).map((a) => (
            <option key={a.name} value={a.name}>
              {a.title}
            </option>
          ))}
        </select>
      </label>
      <label>
        Namespace
        <input
          defaultValue={filters.namespace ?? ""}
          placeholder="any"
          onBlur={(e) => update({ namespace: e.target.value.trim() })}
          onKeyDown={(e) => e.key === "Enter" && update({ namespace: e.currentTarget.value.trim() })}
        />
      </label>
    </form>
  );
}

/** The jobs of one page; `now` is when they were fetched (ages are as of then). */
function JobTable({ jobs, now }: { jobs: Job[]; now: number }) {
  return (
    <div className="table-wrap">
      <table className="jobs">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Status</th>
            <th scope="col">Algorithm</th>
            <th scope="col">Namespace</th>
            <th scope="col">Cluster</th>
            <th scope="col">Created</th>
            <th scope="col">Updated</th>
            <th scope="col">Age</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((job) => (
            <JobRow key={job.id} job={job} now={now} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

// Unchanged jobs keep their object across refreshes (TanStack Query's structural sharing), so
// a refresh re-renders only the rows that changed and the age column.
const JobRow = memo(function JobRow({ job, now }: { job: Job; now: number }) {
  const placed = job.clusters ?? [];
  return (
    <tr>
      <td>
        <Link to={`/jobs/${encodeURIComponent(job.id)}`}>{job.jobName}</Link>
        <div className="muted small">{job.id}</div>
      </td>
      <td>
        <StatusBadge status={job.status} />
        {job.message && job.status === "Pending" && (
          <div className="muted small clip" title={job.message}>
            {job.message}
          </div>
        )}
      </td>
      <td>{job.algorithm}</td>
      <td>{job.namespace}</td>
      <td>
        {placed.length > 0 ? (
          placed.join(", ")
        ) : (
          <span className="muted">
            {job.targetClusters.length > 0 ? `→ ${job.targetClusters.join(", ")}` : "not placed"}
          </span>
        )}
      </td>
      <td title={job.createdAt}>{when(job.createdAt)}</td>
      <td title={job.updatedAt}>{when(job.updatedAt)}</td>
      <td>{age(job.createdAt, now)}</td>
    </tr>
  );
});
