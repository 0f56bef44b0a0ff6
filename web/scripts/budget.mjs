// Checks the size budget of the built UI: the JavaScript the first page (/) loads — the entry
// script and the chunks index.html preloads — must stay under 250 KB gzipped. Lazily loaded
// pages are reported, not counted. Run after `npm run build`.
import { readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { repoRoot } from "./python.mjs";

const FIRST_PAGE_JS_BUDGET = 250 * 1024;
const dist = path.join(repoRoot, "web", "dist");
const html = readFileSync(path.join(dist, "index.html"), "utf8");
const firstPage = [
  ...html.matchAll(/<script[^>]*type="module"[^>]*src="([^"]+)"/g),
  ...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g),
].map((match) => match[1]);
if (firstPage.length === 0) throw new Error("index.html loads no module script");

const gzipped = (file) => gzipSync(readFileSync(path.join(dist, file)), { level: 9 }).length;
let total = 0;
for (const file of firstPage) {
  const size = gzipped(file);
  total += size;
  console.log(`  ${(size / 1024).toFixed(1).padStart(7)} KB gz  ${file}`);
}
const verdict = total <= FIRST_PAGE_JS_BUDGET ? "within" : "OVER";
console.log(
  `budget: first page JavaScript ${(total / 1024).toFixed(1)} KB gzipped, ${verdict} the` +
    ` ${FIRST_PAGE_JS_BUDGET / 1024} KB budget`,
);
if (total > FIRST_PAGE_JS_BUDGET) process.exit(1);
