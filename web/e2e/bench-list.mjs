// The jobs list's budgets with many jobs, in headless Chromium against a real `ml-platform dev`:
// render time and main-thread long tasks while paging through N jobs (100 per page), and the
// API calls per 5 s refresh (constant in N). Prints the numbers; exits 1 over a budget.
//
//   node e2e/bench-list.mjs [--jobs 1000]      (needs web/dist: npm run build)
import { chromium } from "playwright-core";
import { startServer } from "./server.mjs";

const argJobs = process.argv.indexOf("--jobs");
const JOBS = argJobs > 0 ? Number(process.argv[argJobs + 1]) : 1000;
const PAGE_SIZE = 100;
const CONCURRENCY = 4;
// A frame is janky past 50 ms; one page of 100 rows may take a few frames, never a freeze.
const LONGEST_TASK_BUDGET_MS = 250;
const CALLS_PER_REFRESH_BUDGET = 2;

async function createJobs(url, count) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      // SQLite answers 503 when its writers queue up: retry, with a key so a retry of a
      // request that did get through returns that job instead of making a second one.
      for (let attempt = 1; ; attempt += 1) {
        const response = await fetch(`${url}/api/v1/jobs`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "Idempotency-Key": `bench-${i}` },
          body: JSON.stringify({
            jobName: `bench-${i}`,
            algorithm: { source: "builtin", algorithmName: "xgboost" },
            resources: { instanceResources: { cpuCores: 1, memoryGiB: 1 } },
          }),
        });
        if (response.status === 201) break;
        if (response.status !== 503 || attempt === 5) {
          throw new Error(`create answered ${response.status}: ${await response.text()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

const server = await startServer();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
let failed = false;
try {
  const started = performance.now();
  await createJobs(server.url, JOBS);
  console.log(`bench: created ${JOBS} jobs in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.__longTasks.push(entry.duration);
    }).observe({ type: "longtask", buffered: true });
  });
  const calls = [];
  page.on("request", (request) => {
    if (new URL(request.url()).pathname.startsWith("/api/v1/jobs")) calls.push(Date.now());
  });
  const firstRow = () => document.querySelector("table.jobs tbody tr td:first-child .small")?.textContent;

  let clickedAt = performance.now();
  await page.goto(`${server.url}/?limit=${PAGE_SIZE}`);
  const renders = [];
  let loadLongest = 0;
  let shown = 0;
  for (let pageNo = 1; ; pageNo += 1) {
    await page.waitForFunction((n) => document.querySelectorAll("table.jobs tbody tr").length >= n, 1);
    const previous = await page.evaluate(firstRow);
    renders.push(performance.now() - clickedAt);
    if (pageNo === 1) {
      // Loading the app itself is not paging: count the long tasks from here on.
      loadLongest = await page.evaluate(() => Math.max(0, ...window.__longTasks));
      await page.evaluate(() => (window.__longTasks = []));
    }
    shown += await page.locator("table.jobs tbody tr").count();
    const next = page.getByRole("button", { name: "Next →" });
    if (await next.isDisabled()) break;
    clickedAt = performance.now();
    await next.click();
    await page.waitForFunction((before) => {
      const first = document.querySelector("table.jobs tbody tr td:first-child .small");
      return first !== null && first.textContent !== before;
    }, previous);
  }
  const longTasks = await page.evaluate(() => window.__longTasks);

  await page.getByRole("button", { name: "← Previous" }).click();
  const from = Date.now();
  await page.waitForTimeout(10_500);
  const perRefresh = calls.filter((t) => t >= from).length / 2;

  const longest = Math.max(0, ...longTasks);
  const slowest = Math.max(...renders);
  console.log(`bench: ${shown} jobs shown over ${renders.length} pages of ${PAGE_SIZE}`);
  console.log(`bench: page render (click to rows) ms: ${renders.map((r) => r.toFixed(0)).join(", ")}`);
  console.log(
    `bench: long tasks while paging and refreshing: ${longTasks.length}, longest ${longest.toFixed(0)} ms` +
      ` (budget ${LONGEST_TASK_BUDGET_MS} ms)`,
  );
  console.log(`bench: longest task while loading the app: ${loadLongest.toFixed(0)} ms`);
  console.log(`bench: API calls per refresh: ${perRefresh} (budget ${CALLS_PER_REFRESH_BUDGET})`);
  console.log(`bench: slowest page ${slowest.toFixed(0)} ms`);
  if (shown < JOBS) failed = (console.log(`bench: only ${shown} of ${JOBS} jobs shown`), true);
  if (longest > LONGEST_TASK_BUDGET_MS) failed = true;
  if (perRefresh > CALLS_PER_REFRESH_BUDGET) failed = true;
} finally {
  await browser.close();
  await server.stop();
}
if (failed) {
  console.log("bench: OVER BUDGET");
  process.exit(1);
}
