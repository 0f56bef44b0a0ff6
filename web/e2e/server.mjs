// Starts a real `ml-platform dev` (SQLite in a scratch directory, in-process Karmada simulator)
// on a free port, for the browser tests and the schema tests.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { mlPlatformBin, repoRoot } from "../scripts/python.mjs";

/** A port nothing listens on now (the server flag takes a number, not 0). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`ml-platform dev exited with ${child.exitCode}`);
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`ml-platform dev did not become healthy at ${url} within ${timeoutMs} ms`);
}

/** A running server: `url`, its output so far, and `stop()` (SIGTERM, then wait). */
export async function startServer({ uiDir = path.join(repoRoot, "web", "dist") } = {}) {
  const scratch = mkdtempSync(path.join(os.tmpdir(), "ml-platform-e2e-"));
  const port = await freePort();
  const output = [];
  const child = spawn(
    mlPlatformBin(),
    ["dev", "--port", String(port), "--http-host", "127.0.0.1", "--http-ui-dir", uiDir],
    {
      cwd: scratch,
      env: { ...process.env, ML_PLATFORM_LOG__LEVEL: "warning" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  child.stdout.on("data", (chunk) => output.push(String(chunk)));
  child.stderr.on("data", (chunk) => output.push(String(chunk)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(url, child, 60000);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${error.message}\n${output.join("")}`);
  }
  let stopped = null;
  const stop = () => {
    stopped ??= new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 15000).unref();
    }).then(() => rmSync(scratch, { recursive: true, force: true }));
    return stopped;
  };
  return { url, output, stop };
}
