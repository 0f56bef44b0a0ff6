/** A job status as a coloured badge; unknown statuses are shown as they are, never guessed. */
export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status.toLowerCase()}`}>{status}</span>;
}
