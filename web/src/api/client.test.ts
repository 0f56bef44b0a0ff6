import { describe, expect, it } from "vitest";
import {
  ApiError,
  createClient,
  errorFromResponse,
  fieldProblems,
  parseLinkHeader,
  parseSse,
} from "./client";

describe("parseLinkHeader", () => {
  it("reads the next page of the jobs list", () => {
    const header = '<http://h/api/v1/jobs?limit=50&cursor=abc%3D>; rel="next"';
    expect(parseLinkHeader(header)).toEqual({ next: "http://h/api/v1/jobs?limit=50&cursor=abc%3D" });
  });

  it("handles several links, unquoted and multiple relations, and commas in URLs", () => {
    const header = '<https://h/a?x=1,2>; rel=prev, <https://h/b>; title="t"; rel="next last"';
    expect(parseLinkHeader(header)).toEqual({
      prev: "https://h/a?x=1,2",
      next: "https://h/b",
      last: "https://h/b",
    });
  });

  it("is empty without a header or with garbage", () => {
    expect(parseLinkHeader(null)).toEqual({});
    expect(parseLinkHeader("nonsense")).toEqual({});
  });
});

describe("errorFromResponse", () => {
  it("uses the API's error line and keeps its details", () => {
    const body = JSON.stringify({
      error: "request validation failed",
      details: [{ loc: ["body", "jobName"], msg: "String should match pattern" }],
    });
    const error = errorFromResponse(422, "Unprocessable Entity", body);
    expect(error.status).toBe(422);
    expect(error.message).toBe("request validation failed");
    expect(fieldProblems(error)).toEqual([
      { path: ["jobName"], message: "String should match pattern" },
    ]);
  });

  it("falls back to the status and the body's text for a non-API answer", () => {
    const error = errorFromResponse(502, "Bad Gateway", "<html><h1>502 Bad Gateway</h1></html>");
    expect(error.message).toBe("502 Bad Gateway: 502 Bad Gateway");
    expect(error.details).toBeNull();
  });

  it("has no field problems for other errors", () => {
    expect(fieldProblems(new ApiError(404, "no job"))).toEqual([]);
    expect(fieldProblems(new Error("x"))).toEqual([]);
  });
});

describe("parseSse", () => {
  it("splits complete events and keeps the rest", () => {
    const { events, rest } = parseSse(
      "event: open\ndata: following a/b/c\n\ndata: line 1\n\ndata: two\ndata: parts\n\ndata: unfin",
    );
    expect(events).toEqual([
      { event: "open", data: "following a/b/c" },
      { event: "message", data: "line 1" },
      { event: "message", data: "two\nparts" },
    ]);
    expect(rest).toBe("data: unfin");
  });
});

function fakeFetch(responses: Response[], seen: Request[] = []): typeof fetch {
  return async (input, init) => {
    seen.push(new Request(new URL(String(input), "http://ui.test"), init));
    const next = responses.shift();
    if (!next) throw new TypeError("Failed to fetch");
    return next;
  };
}

describe("createClient", () => {
  it("returns a page of jobs with the next page's URL from the Link header", async () => {
    const seen: Request[] = [];
    const client = createClient({
      fetchImpl: fakeFetch(
        [
          new Response("[]", {
            headers: { Link: '</api/v1/jobs?status=Running&cursor=c1>; rel="next"' },
          }),
        ],
        seen,
      ),
    });
    const page = await client.listJobs({ status: "Running", q: "", limit: 50 });
    expect(page).toEqual({ items: [], next: "/api/v1/jobs?status=Running&cursor=c1" });
    expect(seen[0]?.url).toBe("http://ui.test/api/v1/jobs?status=Running&limit=50");
  });

  it("follows the next page on this origin even when the API names another host", async () => {
    const client = createClient({
      fetchImpl: fakeFetch([
        new Response("[]", {
          headers: { Link: '<http://ui-host/api/v1/jobs?limit=50&cursor=c2>; rel="next"' },
        }),
      ]),
    });
    expect((await client.listJobs({ limit: 50 })).next).toBe("/api/v1/jobs?limit=50&cursor=c2");
  });

  it("turns a network failure into an ApiError with status 0", async () => {
    const client = createClient({ fetchImpl: fakeFetch([]) });
    await expect(client.getJob("x")).rejects.toMatchObject({ status: 0, isNetwork: true });
  });

  it("asks for a token once on a Bearer 401 and retries with it", async () => {
    const seen: Request[] = [];
    let asked = 0;
    const client = createClient({
      fetchImpl: fakeFetch(
        [
          new Response('{"error":"authentication required"}', {
            status: 401,
            headers: { "WWW-Authenticate": "Bearer" },
          }),
          new Response('{"clusters":[]}'),
        ],
        seen,
      ),
      token: () => null,
      askToken: async () => {
        asked += 1;
        return "s3cret";
      },
    });
    expect(await client.clusters()).toEqual({ clusters: [] });
    expect(asked).toBe(1);
    expect(seen[0]?.headers.get("Authorization")).toBeNull();
    expect(seen[1]?.headers.get("Authorization")).toBe("Bearer s3cret");
  });

  it("sends the Idempotency-Key on create and reports a 422 with its details", async () => {
    const seen: Request[] = [];
    const client = createClient({
      fetchImpl: fakeFetch(
        [
          new Response(
            JSON.stringify({
              error: "request validation failed",
              details: [{ loc: ["body", "resources", "instanceCount"], msg: "too many" }],
            }),
            { status: 422 },
          ),
        ],
        seen,
      ),
    });
    const error = await client
      .createJob({} as never, "key-1")
      .then(() => null, (e: unknown) => e);
    expect(seen[0]?.headers.get("Idempotency-Key")).toBe("key-1");
    expect(fieldProblems(error)).toEqual([
      { path: ["resources", "instanceCount"], message: "too many" },
    ]);
  });
});
