import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { api } from "../api";
import { parseSse } from "../api/client";
import { FINAL_STATUSES } from "../api/types";
import { ErrorPanel, Loading } from "./States";

const MAX_LINES = 5000;
const RETRY_MS = 3000;

/** The driver's log: followed live through /logs/stream while the job runs, read once from
 * /logs when it has finished (or when following is not possible), with a download. */
export function LogViewer({ id, status }: { id: string; status: string }) {
  const final = FINAL_STATUSES.includes(status);
  const [followFailed, setFollowFailed] = useState<string | null>(null);
  // What was followed live stays on screen when the server kept no copy of a finished log.
  const [followed, setFollowed] = useState<string[]>([]);
  return final || followFailed ? (
    <StoredLog id={id} final={final} note={followFailed} followed={followed} />
  ) : (
    <FollowedLog id={id} onFail={setFollowFailed} onLines={setFollowed} />
  );
}

function StoredLog({
  id,
  final,
  note,
  followed,
}: {
  id: string;
  final: boolean;
  note: string | null;
  followed: string[];
}) {
  const logs = useQuery({
    queryKey: ["job-logs", id],
    queryFn: () => api.jobLogs(id),
    refetchInterval: final ? false : RETRY_MS,
  });
  if (logs.isPending) return <Loading what="the log" />;
  if (logs.isError) return <ErrorPanel error={logs.error} title="The log is unavailable" />;
  const stored = logs.data.logs ?? [];
  if (stored.length === 0 && followed.length > 0) {
    return (
      <LogText id={id} lines={followed} caption={`as followed live (${logs.data.message})`} />
    );
  }
  const source = logs.data.pod
    ? `${logs.data.source} log of ${logs.data.cluster ?? "?"}/${logs.data.pod}`
    : logs.data.message;
  return (
    <LogText
      id={id}
      lines={stored}
      caption={note ? `${source} (not following: ${note})` : source}
    />
  );
}

function FollowedLog({
  id,
  onFail,
  onLines,
}: {
  id: string;
  onFail: (why: string) => void;
  onLines: (lines: string[]) => void;
}) {
  const [lines, setLines] = useState<string[]>([]);
  const [caption, setCaption] = useState("connecting…");
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    let retry: ReturnType<typeof setTimeout> | undefined;
    let received: string[] = [];
    const run = async () => {
      const response = await api.streamLogs(id, controller.signal);
      const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
      if (!reader) throw new Error("this browser cannot read streams");
      let buffer = "";
      let opened = false;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const { events, rest } = parseSse(buffer + value);
        buffer = rest;
        for (const event of events) {
          if (event.event === "open") {
            // Each connection starts with the tail again: replace, do not append.
            received = [];
            opened = true;
            setCaption(event.data);
          } else if (event.event === "end" || event.event === "error") {
            setCaption(event.event === "end" ? `${event.data}` : `error: ${event.data}`);
          } else if (opened) {
            received.push(event.data);
          }
        }
        received = received.slice(-MAX_LINES);
        setLines(received);
        if (received.length > 0) onLines(received);
      }
      // The log ended (or there is no pod yet): look again shortly while the job lives.
      retry = setTimeout(() => setAttempt((n) => n + 1), RETRY_MS);
    };
    run().catch((error: unknown) => {
      if (controller.signal.aborted) return;
      onFail(error instanceof Error ? error.message : String(error));
    });
    return () => {
      controller.abort();
      clearTimeout(retry);
    };
  }, [id, attempt, onFail, onLines]);

  return <LogText id={id} lines={lines} caption={`following: ${caption}`} />;
}

function LogText({ id, lines, caption }: { id: string; lines: string[]; caption: string }) {
  const box = useRef<HTMLPreElement>(null);
  const [stick, setStick] = useState(true);
  useEffect(() => {
    if (stick && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines, stick]);
  const download = () => {
    const url = URL.createObjectURL(new Blob([lines.join("\n") + "\n"], { type: "text/plain" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = `${id}.log`;
    link.click();
    URL.revokeObjectURL(url);
  };
  return (
    <div className="log">
      <div className="log-bar">
        <span className="muted small" aria-live="polite">
          {caption} · {lines.length} line(s)
        </span>
        <button type="button" onClick={download} disabled={lines.length === 0}>
          Download
        </button>
      </div>
      <pre
        ref={box}
        className="log-text"
        tabIndex={0}
        aria-label="Log output"
        onScroll={(e) => {
          const el = e.currentTarget;
          setStick(el.scrollHeight - el.scrollTop - el.clientHeight < 24);
        }}
      >
        {lines.length > 0 ? lines.join("\n") : "(no log lines yet)"}
      </pre>
    </div>
  );
}
