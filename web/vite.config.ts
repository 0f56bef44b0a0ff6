import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The UI always calls the API on its own origin (/api/v1): `ml-platform dev`/`serve` and the
// nginx image serve both. `npm run dev` proxies /api to ML_PLATFORM_URL (default :8080).
export default defineConfig({
  plugins: [react()],
  build: {
    target: "es2020",
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: { "/api": process.env.ML_PLATFORM_URL ?? "http://localhost:8080" },
  },
  test: {
    include: ["src/**/*.test.ts"],
    globalSetup: ["./e2e/vitest-setup.mjs"],
    testTimeout: 20000,
    hookTimeout: 60000,
  },
});
