/** "3 m", "2 h", "5 d": how long ago (or how long) in the largest whole unit. */
export function age(from: string | null | undefined, now: number = Date.now()): string {
  if (!from) return "—";
  const seconds = Math.max(0, Math.round((now - Date.parse(from)) / 1000));
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h`;
  return `${Math.floor(seconds / 86400)} d`;
}

// One formatter for every cell: building one per call costs about a millisecond each, which a
// list of hundreds of rows felt.
const FORMAT = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** A timestamp in the reader's locale, with seconds. */
export function when(value: string | null | undefined): string {
  if (!value) return "—";
  return FORMAT.format(new Date(value));
}
