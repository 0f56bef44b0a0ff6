// Kubernetes resource quantities ("500m", "8", "32Gi", "1.5G") as numbers, for capacity bars.
const SUFFIXES: Record<string, number> = {
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
};

/** The value of a quantity, or null when it is missing or not a quantity. */
export function parseQuantity(text: string | null | undefined): number | null {
  if (!text) return null;
  const match = /^([0-9.]+(?:[eE][-+]?[0-9]+)?)([a-zA-Z]*)$/.exec(text.trim());
  if (!match?.[1]) return null;
  const scale = match[2] ? SUFFIXES[match[2]] : 1;
  const value = Number(match[1]);
  return scale === undefined || !Number.isFinite(value) ? null : value * scale;
}

/** A quantity for people: cores with up to 2 decimals, bytes in GiB. */
export function formatQuantity(value: number | null, kind: "cpu" | "memory" | "count"): string {
  if (value === null) return "?";
  if (kind === "memory") return `${(value / 2 ** 30).toFixed(value >= 10 * 2 ** 30 ? 0 : 1)} GiB`;
  return String(Math.round(value * 100) / 100);
}
