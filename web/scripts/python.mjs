// The Python environment of this checkout, where ml-platform is installed (README: .venv).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The `ml-platform` executable: $ML_PLATFORM_BIN, else .venv/bin/ml-platform of the checkout. */
export function mlPlatformBin() {
  const bin = process.env.ML_PLATFORM_BIN ?? path.join(repoRoot, ".venv", "bin", "ml-platform");
  if (!existsSync(bin)) {
    throw new Error(`${bin} not found: install ml-platform first (README) or set ML_PLATFORM_BIN`);
  }
  return bin;
}

/** The Python interpreter next to the `ml-platform` executable. */
export function python() {
  return path.join(path.dirname(mlPlatformBin()), "python");
}
