// A small typed client of /api/v1. It speaks only the documented API: JSON bodies, the
// {"error", "details"} error shape, the Link header for pages, Idempotency-Key on create, and
// a bearer token when the server asks for one (401 with WWW-Authenticate: Bearer).
import type {
  Algorithm,
  ClusterList,
  DryRun,
  Job,
  JobCounts,
  JobEvent,
  JobLogs,
  JobRequest,
  JobStatus,
  ListFilters,
  Message,
} from "./types";

/** An answer other than 2xx (status > 0) or no answer at all (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
    this.name = "ApiError";
  }

  get isNetwork(): boolean {
    return this.status === 0;
  }
}

/** One field named by a 422: where (`loc` without the leading "body") and why. */
export interface FieldProblem {
  path: string[];
  message: string;
}

/** The targets of a Link header by relation, e.g. {next: "/api/v1/jobs?cursor=…"}. */
export function parseLinkHeader(header: string | null): Record<string, string> {
  const links: Record<string, string> = {};
  if (!header) return links;
  // Split on commas that start a new <…> link (a URL may itself contain commas).
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!match) continue;
    const [, url, params] = match;
    for (const param of (params ?? "").split(";")) {
      const rel = /^\s*rel\s*=\s*"?([^"]*)"?\s*$/i.exec(param);
      if (rel?.[1] && url !== undefined) {
        for (const name of rel[1].split(/\s+/)) if (name) links[name.toLowerCase()] = url;
      }
    }
  }
  return links;
}

/** The ApiError for a non-2xx answer: the API's one-line `error` and its `details` when the
 * body has that shape, else the status text with the body's start. */
export function errorFromResponse(status: number, statusText: string, body: string): ApiError {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === "object") {
      const record = parsed as Record<string, unknown>;
      if (typeof record.error === "string") {
        return new ApiError(status, record.error, record.details ?? null);
      }
      if (typeof record.detail === "string") return new ApiError(status, record.detail, null);
    }
  } catch {
    // not JSON: a proxy's HTML page, for example
  }
  const text = body.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim().slice(0, 200);
  return new ApiError(status, `${status} ${statusText || "error"}${text ? `: ${text}` : ""}`);
}

/** The fields a 422's `details` names (FastAPI's list of {loc, msg}), body-relative. */
export function fieldProblems(error: unknown): FieldProblem[] {
  if (!(error instanceof ApiError) || !Array.isArray(error.details)) return [];
  const problems: FieldProblem[] = [];
  for (const item of error.details as unknown[]) {
    if (!item || typeof item !== "object") continue;
    const { loc, msg } = item as { loc?: unknown; msg?: unknown };
    if (!Array.isArray(loc) || typeof msg !== "string") continue;
    const path = loc.map(String);
    problems.push({ path: path[0] === "body" ? path.slice(1) : path, message: msg });
  }
  return problems;
}

/** One parsed server-sent event. */
export interface SseEvent {
  event: string;
  data: string;
}

/** Splits a server-sent-events buffer into complete events and the unfinished rest. */
export function parseSse(buffer: string): { events: SseEvent[]; rest: string } {
  const events: SseEvent[] = [];
  const blocks = buffer.replace(/\r\n/g, "\n").split("\n\n");
  const rest = blocks.pop() ?? "";
  for (const block of blocks) {
    let event = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (data.length > 0) events.push({ event, data: data.join("\n") });
  }
  return { events, rest };
}

/** The path and query of a URL the API gave. Behind a proxy the API may name a host other
 * than the one the browser uses (nginx's `Host $host` drops the port), and the next page is
 * always on this same API. */
export function pathAndQuery(url: string): string {
  const parsed = new URL(url, "http://api.invalid");
  return parsed.pathname + parsed.search;
}

/** A query string of the set filters. */
function query(filters: object): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  return params.toString();
}

export interface Page<T> {
  items: T[];
  next: string | null;
}

export interface ClientOptions {
  baseUrl?: string;
  fetchImpl?: typeof fetch;
  /** The bearer token to send, if any. */
  token?: () => string | null;
  /** Called once on a 401 asking for a bearer token; returns a token to retry with, or null. */
  askToken?: () => Promise<string | null>;
}

export type ApiClient = ReturnType<typeof createClient>;

/** Where the API is: this origin's /api/v1 unless the build names another (VITE_API_BASE_URL). */
export const API_BASE: string = import.meta.env.VITE_API_BASE_URL || "/api/v1";

/** A client of the API at `baseUrl` (default: this origin's /api/v1). */
export function createClient(options: ClientOptions = {}) {
  const baseUrl = options.baseUrl ?? API_BASE;
  const doFetch = options.fetchImpl ?? ((input, init) => fetch(input, init));

  async function send(pathOrUrl: string, init: RequestInit = {}): Promise<Response> {
    // "/jobs…" is relative to the API base; "/api/v1/jobs…" (a Link target) to its origin.
    const absoluteBase = /^https?:/.test(baseUrl);
    const url = /^https?:/.test(pathOrUrl)
      ? pathOrUrl
      : pathOrUrl.startsWith("/api/")
        ? absoluteBase
          ? new URL(pathOrUrl, baseUrl).toString()
          : pathOrUrl
        : `${baseUrl}${pathOrUrl}`;
    const attempt = (token: string | null) => {
      const headers = new Headers(init.headers);
      headers.set("Accept", "application/json");
      if (token) headers.set("Authorization", `Bearer ${token}`);
      return doFetch(url, { ...init, headers });
    };
    let response: Response;
    try {
      response = await attempt(options.token?.() ?? null);
      const challenge = response.headers.get("WWW-Authenticate") ?? "";
      if (response.status === 401 && /bearer/i.test(challenge) && options.askToken) {
        const token = await options.askToken();
        if (token) response = await attempt(token);
      }
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") throw error;
      throw new ApiError(0, "The API did not answer: is ml-platform running and reachable?");
    }
    if (!response.ok) {
      throw errorFromResponse(response.status, response.statusText, await response.text());
    }
    return response;
  }

  async function json<T>(path: string, init: RequestInit = {}): Promise<T> {
    return (await (await send(path, init)).json()) as T;
  }

  function body(value: unknown, headers: Record<string, string> = {}): RequestInit {
    return {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: JSON.stringify(value),
    };
  }

  return {
    send,
    /** A page of jobs; `pageUrl` is a previous page's `next` (the Link header's target). */
    async listJobs(filters: ListFilters, pageUrl?: string | null): Promise<Page<Job>> {
      const response = await send(pageUrl ?? `/jobs?${query(filters)}`);
      const items = (await response.json()) as Job[];
      const next = parseLinkHeader(response.headers.get("Link")).next;
      return { items, next: next ? pathAndQuery(next) : null };
    },
    /** Jobs per status among those the filters (other than status) select. */
    countJobs: (filters: Omit<ListFilters, "status" | "limit">) =>
      json<JobCounts>(`/jobs/counts?${query(filters)}`),
    getJob: (id: string) => json<Job>(`/jobs/${encodeURIComponent(id)}`),
    jobStatus: (id: string) => json<JobStatus>(`/jobs/${encodeURIComponent(id)}/status`),
    jobEvents: (id: string) => json<JobEvent[]>(`/jobs/${encodeURIComponent(id)}/events`),
    jobLogs: (id: string, tailLines = 1000) =>
      json<JobLogs>(`/jobs/${encodeURIComponent(id)}/logs?tailLines=${tailLines}`),
    /** The follow stream's response (text/event-stream); read it with parseSse. */
    streamLogs: (id: string, signal: AbortSignal) =>
      send(`/jobs/${encodeURIComponent(id)}/logs/stream?tailLines=1000`, { signal }),
    createJob: (request: JobRequest, idempotencyKey: string) =>
      json<Job>("/jobs", body(request, { "Idempotency-Key": idempotencyKey })),
    previewJob: (request: JobRequest) => json<DryRun>("/jobs?dryRun=true", body(request)),
    stopJob: (id: string) =>
      json<Job>(`/jobs/${encodeURIComponent(id)}/stop`, { method: "POST" }),
    deleteJob: (id: string) =>
      json<Message>(`/jobs/${encodeURIComponent(id)}`, { method: "DELETE" }),
    clusters: () => json<ClusterList>("/proxy/clusters"),
    algorithms: () => json<Algorithm[]>("/algorithms"),
  };
}
