// Vitest global setup: the schema tests read the algorithm catalogue from a running API, the
// one at $ML_PLATFORM_URL, else a `ml-platform dev` started here for the run.
import { startServer } from "./server.mjs";

export default async function setup({ provide }) {
  if (process.env.ML_PLATFORM_URL) {
    provide("apiUrl", process.env.ML_PLATFORM_URL.replace(/\/$/, ""));
    return undefined;
  }
  const server = await startServer();
  provide("apiUrl", server.url);
  return () => server.stop();
}
