import { useEffect, useRef, useState } from "react";
import { ApiError, api, type MessagingTranscript } from "../api/client.js";
import { exactTime, relativeTime } from "../state/format-time.js";
import { describeMessagingSession } from "../state/messaging-labels.js";
import { transcriptSignature } from "../state/signature.js";
import { Message } from "./message.js";

/** Seed 004: the open messaging transcript is polled every 5 s besides the live feed. */
const TRANSCRIPT_POLL_MS = 5_000;

/** A gateway (messaging) session, read-only and live. */
export function MessagingPane({ sessionId }: { sessionId: string }) {
  const [session, setSession] = useState<MessagingTranscript | null>(null);
  const [missing, setMissing] = useState(false);
  const signature = useRef("");
  useEffect(() => {
    const refresh = async () => {
      try {
        const { session: loaded } = await api<{ session: MessagingTranscript }>(
          "GET",
          `/api/messaging/session/${encodeURIComponent(sessionId)}`,
        );
        // Re-render only when role + timestamp + content changed (seed 004).
        const next = transcriptSignature(loaded.messages);
        if (next !== signature.current) {
          signature.current = next;
          setSession(loaded);
        }
      } catch (error) {
        if (error instanceof ApiError && error.code === "SESSION_NOT_FOUND") setMissing(true);
      }
    };
    void refresh();
    const events = new EventSource("/api/events");
    events.addEventListener("messaging", (e) => {
      if ((JSON.parse((e as MessageEvent).data) as { sessionId: string }).sessionId === sessionId)
        void refresh();
    });
    const timer = setInterval(() => void refresh(), TRANSCRIPT_POLL_MS);
    return () => {
      events.close();
      clearInterval(timer);
    };
  }, [sessionId]);
  if (missing) return <p className="empty">This messaging session no longer exists.</p>;
  if (!session) return <p className="loading">Loading…</p>;
  const label = describeMessagingSession({ ...session, platform: session.platform ?? session.source });
  return (
    <div className="chat messaging">
      <header className="chat-header">
        <span
          className="platform-icon"
          role="img"
          aria-label={label.platform}
          style={{ background: label.colour }}
        >
          {label.icon}
        </span>
        <h1 title={label.name}>{label.name}</h1>
        <span className="chip">{label.kind}</span>
        <span className="muted header-sub">
          {label.platform} · active{" "}
          <time title={exactTime(session.updatedAt)}>{relativeTime(session.updatedAt)}</time>
        </span>
        {session.archived && <span className="chip muted-chip">Archived</span>}
      </header>
      <div className="chat-body">
        <ol className="transcript" aria-label="Transcript">
          {session.messages.map((m) => (
            <Message key={m.id} message={m} model={session.model ?? null} />
          ))}
        </ol>
      </div>
    </div>
  );
}
