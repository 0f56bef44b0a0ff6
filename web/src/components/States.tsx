import { useEffect, useState } from "react";
import { ApiError } from "../api/client";

/** A spinner that says what it waits for, and says so plainly when it takes long. */
export function Loading({ what }: { what: string }) {
  const [slow, setSlow] = useState(false);
  useEffect(() => {
    const timer = setTimeout(() => setSlow(true), 5000);
    return () => clearTimeout(timer);
  }, []);
  return (
    <p className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      Loading {what}…{slow ? " the API is slow to answer; still waiting." : ""}
    </p>
  );
}

/** What went wrong, in the API's own words, with a retry when it may help. */
export function ErrorPanel({
  error,
  title,
  onRetry,
}: {
  error: unknown;
  title?: string;
  onRetry?: () => void;
}) {
  const apiError = error instanceof ApiError ? error : null;
  const heading =
    title ??
    (apiError?.isNetwork
      ? "Cannot reach the ml-platform API"
      : apiError
        ? `The API answered ${apiError.status}`
        : "Something went wrong");
  const message = error instanceof Error ? error.message : String(error);
  const details = apiError?.details;
  return (
    <div className="panel error" role="alert">
      <h2>{heading}</h2>
      <p>{message}</p>
      {details !== null && details !== undefined && (
        <details>
          <summary>Details</summary>
          <pre>{JSON.stringify(details, null, 2)}</pre>
        </details>
      )}
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: React.ReactNode }) {
  return <div className="panel empty">{children}</div>;
}
