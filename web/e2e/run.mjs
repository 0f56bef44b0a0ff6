// End-to-end tests of the built UI in headless Chromium (Debian's package, driven by
// playwright-core) against a real `ml-platform dev`: every flow of the UI, an axe-core check
// on every page, screenshots of every page, and the budgets. Prints where the screenshots
// are and how long each step took; exits 1 when a step fails.
//
//   node e2e/run.mjs [--out DIR]      (needs web/dist: npm run build)
import { mkdirSync, existsSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";
import { startServer } from "./server.mjs";
import { repoRoot } from "../scripts/python.mjs";

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const outArg = process.argv.indexOf("--out");
const OUT =
  outArg > 0
    ? path.resolve(process.argv[outArg + 1])
    : path.join(os.tmpdir(), `ml-platform-e2e-${new Date().toISOString().replace(/[:.]/g, "-")}`);
const JOB_WAIT_MS = 60000;
const PAGED_JOBS = 120;

const timings = [];
const failures = [];

async function step(name, body) {
  const started = performance.now();
  try {
    await body();
    timings.push([name, performance.now() - started, "ok"]);
    console.log(`  ok    ${name} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  } catch (error) {
    timings.push([name, performance.now() - started, "FAILED"]);
    failures.push([name, error]);
    console.log(`  FAIL  ${name}: ${error?.stack ?? error}`);
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/** axe-core on the current page: no serious or critical violation. */
async function checkA11y(page, label) {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ content: AXE_SOURCE });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const { violations } = await axe.run(document, { resultTypes: ["violations"] });
    return violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }));
  });
  const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert(bad.length === 0, `${label}: accessibility violations ${JSON.stringify(bad)}`);
  return result;
}

async function shoot(page, name) {
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
}

async function apiCreate(url, body) {
  const response = await fetch(`${url}/api/v1/jobs`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  assert(response.status === 201, `create answered ${response.status}: ${text}`);
  return JSON.parse(text);
}

function minimalJob(name) {
  return {
    jobName: name,
    algorithm: { source: "builtin", algorithmName: "xgboost" },
    resources: { instanceResources: { cpuCores: 1, memoryGiB: 1 } },
  };
}

/** Fill the create form for `algorithm` and submit; returns the new job's id. */
async function createThroughForm(page, { name, algorithm, tweak }) {
  await page.goto(`${base}/jobs/new`);
  await page.locator(`input[name="algorithm"][value="${algorithm}"]`).check();
  await page.locator("#f-jobName").fill(name);
  if (tweak) await tweak(page);
  await page.getByRole("button", { name: "Create job" }).click();
  await page.waitForURL(/\/jobs\/(?!new)[^/]+$/, { timeout: 15000 });
  return decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
}

async function waitStatus(page, status) {
  await page
    .locator("#job-title .badge", { hasText: new RegExp(`^${status}$`) })
    .waitFor({ timeout: JOB_WAIT_MS });
}

let base = "";

async function main() {
  const dist = path.join(repoRoot, "web", "dist", "index.html");
  if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`npm run build\` in web/ first`);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  mkdirSync(OUT, { recursive: true });
  console.log(`e2e: screenshots in ${OUT}`);

  const runStarted = performance.now();
  const server = await startServer();
  base = server.url;
  console.log(`e2e: ml-platform dev at ${base}`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  page.on("dialog", (dialog) => void dialog.accept());
  const apiCalls = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith("/api/")) apiCalls.push({ at: Date.now(), path: url.pathname });
  });
  const ids = {};

  try {
    await step("empty jobs list, accessible", async () => {
      await page.goto(base);
      await page.getByText("No jobs yet").waitFor();
      await checkA11y(page, "empty list");
      await shoot(page, "01-jobs-empty");
    });

    await step("create form: 422 details shown next to the field", async () => {
      await page.goto(`${base}/jobs/new`);
      await page.locator("#f-jobName").fill("Not_A_DNS_Name");
      await page.getByRole("button", { name: "Create job" }).click();
      const error = page.locator("#f-jobName-error");
      await error.waitFor({ timeout: 10000 });
      assert((await error.textContent()).length > 0, "no error text next to the name");
      await checkA11y(page, "create form");
      await shoot(page, "02-create-validation-error");
    });

    await step("create an XGBoost job with preview, resources, channel and cluster", async () => {
      ids.xgb = await createThroughForm(page, {
        name: "e2e-xgb",
        algorithm: "xgboost",
        tweak: async (p) => {
          await p.getByLabel("CPU cores per instance").fill("2");
          await p.getByLabel("Instances", { exact: true }).fill("2");
          await p.locator("#hp-eta").fill("0.1");
          await p.getByRole("button", { name: "Add input channel" }).click();
          await p.getByLabel("Bucket").fill("datasets");
          await p.getByLabel("Prefix").fill("iris/train.csv");
          await p.getByRole("checkbox", { name: /member1/ }).check();
          await p.getByRole("button", { name: "Preview" }).click();
          await p.getByRole("heading", { name: "Preview" }).waitFor();
          const text = await p.locator(".preview").textContent();
          assert(text.includes("member1"), "preview does not name the candidate cluster");
          assert(text.includes("RayJob"), "preview does not show the RayJob manifest");
          await checkA11y(p, "create form with preview");
          await shoot(p, "03-create-preview");
        },
      });
    });

    await step("XGBoost job reaches Succeeded, timeline and logs shown", async () => {
      await waitStatus(page, "Succeeded");
      await page.locator(".timeline li").nth(2).waitFor();
      await page.locator(".log-text", { hasText: /\S+\n\S+/ }).waitFor({ timeout: 15000 });
      const request = await page.evaluate(() => document.body.textContent);
      assert(request.includes("member1"), "job page does not name its cluster");
      await checkA11y(page, "job page");
      await shoot(page, "04-job-succeeded");
    });

    await step("create a PyTorch job; it succeeds and its log is followed", async () => {
      ids.torch = await createThroughForm(page, {
        name: "e2e-torch",
        algorithm: "pytorch",
        tweak: async (p) => {
          const lr = p.locator("#hp-learning_rate");
          if (await lr.count()) await lr.fill("0.01");
        },
      });
      // Lines arrive while it runs, and stay readable after it ends.
      await page.locator(".log-bar", { hasText: "following" }).waitFor({ timeout: 15000 });
      await page.locator(".log-text", { hasText: /epoch=1 step=\d+/ }).waitFor({ timeout: 20000 });
      await waitStatus(page, "Succeeded");
      await page.locator(".log-text", { hasText: /epoch=1 step=\d+/ }).waitFor({ timeout: 15000 });
      await shoot(page, "05-pytorch-succeeded");
    });

    await step("stop a running job", async () => {
      ids.stopped = await createThroughForm(page, { name: "e2e-stop", algorithm: "pytorch" });
      await page.getByRole("button", { name: "Stop" }).click();
      await waitStatus(page, "Stopped");
      await shoot(page, "06-job-stopped");
    });

    await step("delete a job; its open page says it is gone", async () => {
      const other = await context.newPage();
      await other.goto(`${base}/jobs/${ids.stopped}`);
      await waitStatus(other, "Stopped");
      await page.getByRole("button", { name: "Delete" }).click();
      await page.waitForURL(`${base}/`);
      await other.getByRole("heading", { name: "Job not found" }).waitFor({ timeout: 20000 });
      await checkA11y(other, "deleted job");
      await shoot(other, "07-job-deleted-while-open");
      await other.close();
    });

    await step(`page through ${PAGED_JOBS} more jobs via the Link header`, async () => {
      for (let i = 0; i < PAGED_JOBS; i += 1) await apiCreate(base, minimalJob(`bulk-${i}`));
      const total = PAGED_JOBS + 2; // xgb, torch (the stopped one was deleted)
      await page.goto(`${base}/?limit=50`);
      const seen = new Set();
      for (let pageNo = 1; ; pageNo += 1) {
        await page.getByText(`Page ${pageNo}`, { exact: true }).waitFor();
        // The previous page stays on screen until the next one arrives.
        await page.waitForFunction(
          (ids) => {
            const first = document.querySelector("table.jobs tbody tr td:first-child .small");
            return first !== null && !ids.includes(first.textContent);
          },
          [...seen],
        );
        const names = await page.locator("table.jobs tbody tr td:first-child .small").allTextContents();
        for (const id of names) {
          assert(!seen.has(id), `job ${id} shown on two pages`);
          seen.add(id);
        }
        const next = page.getByRole("button", { name: "Next →" });
        if (await next.isDisabled()) break;
        await next.click();
        await page.waitForFunction((n) => document.body.textContent.includes(`Page ${n}`), pageNo + 1);
      }
      assert(seen.size === total, `saw ${seen.size} jobs over the pages, expected ${total}`);
      await shoot(page, "08-jobs-last-page");
    });

    await step("filter by status and search by name", async () => {
      await page.goto(base);
      await page.getByRole("button", { name: /^Stopped/ }).waitFor();
      await page.getByRole("button", { name: /^Succeeded \d+/ }).click();
      await page.waitForURL(/status=Succeeded/);
      await page.waitForFunction(() => {
        const badges = [...document.querySelectorAll("table.jobs tbody .badge")];
        return badges.length > 0 && badges.every((b) => b.textContent === "Succeeded");
      });
      await page.getByRole("searchbox").fill("e2e-torch");
      await page.waitForURL(/q=e2e-torch/);
      await page.waitForFunction(() => document.querySelectorAll("table.jobs tbody tr").length === 1);
      await checkA11y(page, "filtered list");
      await shoot(page, "09-jobs-filtered");
    });

    await step("dark theme follows the OS setting and stays accessible", async () => {
      const dark = await browser.newContext({ viewport: { width: 1360, height: 900 }, colorScheme: "dark" });
      const darkPage = await dark.newPage();
      await darkPage.goto(`${base}/jobs/${ids.xgb}`);
      await waitStatus(darkPage, "Succeeded");
      const background = await darkPage.evaluate(
        () => getComputedStyle(document.documentElement).backgroundColor,
      );
      assert(background === "rgb(21, 24, 28)", `dark theme not applied (${background})`);
      await checkA11y(darkPage, "job page, dark");
      await shoot(darkPage, "13-job-dark");
      await darkPage.goto(`${base}/jobs/new`);
      await darkPage.locator("#f-jobName").waitFor();
      await checkA11y(darkPage, "create form, dark");
      await shoot(darkPage, "14-create-dark");
      await dark.close();
    });

    await step("live refresh: 2 API calls per 5 s whatever the number of jobs", async () => {
      await page.goto(`${base}/?limit=250`);
      await page.locator("table.jobs tbody tr").nth(100).waitFor();
      await page.evaluate(() => window.scrollTo(0, 1500));
      const from = Date.now();
      await page.waitForTimeout(10500);
      const calls = apiCalls.filter((c) => c.at >= from && c.path.startsWith("/api/v1/jobs"));
      const perRefresh = calls.length / 2;
      assert(perRefresh <= 2, `expected 2 calls per refresh, saw ${calls.length} in two refreshes`);
      const scroll = await page.evaluate(() => window.scrollY);
      assert(scroll === 1500, `the refresh moved the scroll position to ${scroll}`);
      budgets.callsPerRefresh = perRefresh;
    });

    await step("deep links open directly", async () => {
      const fresh = await context.newPage();
      await fresh.goto(`${base}/jobs/${ids.xgb}`);
      await waitStatus(fresh, "Succeeded");
      await fresh.goto(`${base}/clusters`);
      await fresh.getByRole("heading", { name: "member1" }).waitFor();
      await checkA11y(fresh, "clusters page");
      await shoot(fresh, "10-clusters");
      await fresh.goto(`${base}/no/such/page`);
      await fresh.getByRole("heading", { name: "Page not found" }).waitFor();
      await checkA11y(fresh, "not-found page");
      await fresh.close();
    });

    await step("the API stopped: clear error states, no blank page", async () => {
      await page.goto(base);
      await page.locator("table.jobs tbody tr").first().waitFor();
      await server.stop();
      await page.getByText(/Refresh failed/).waitFor({ timeout: 15000 });
      await shoot(page, "11-list-api-down");
      await page.getByRole("link", { name: "Clusters" }).click();
      await page.getByRole("heading", { name: "Cannot reach the ml-platform API" }).waitFor({ timeout: 30000 });
      await checkA11y(page, "API down");
      await shoot(page, "12-clusters-api-down");
    });
  } finally {
    await browser.close();
    await server.stop();
  }

  const seconds = (performance.now() - runStarted) / 1000;
  console.log(`\ne2e: ${timings.length - failures.length}/${timings.length} steps passed in ${seconds.toFixed(1)} s`);
  for (const [name, ms, result] of timings) {
    console.log(`  ${(ms / 1000).toFixed(1).padStart(6)} s  ${result.padEnd(6)}  ${name}`);
  }
  console.log(`e2e: budgets ${JSON.stringify(budgets)}`);
  console.log(`e2e: screenshots in ${OUT}`);
  if (failures.length > 0) process.exit(1);
}

const budgets = {};

main().catch((error) => {
  console.error(`e2e: ${error?.stack ?? error}`);
  process.exit(1);
});
