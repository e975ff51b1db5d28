import type { SessionMessage } from "../api/client.js";
import { exactTime, shortTime } from "../state/format-time.js";
import type { Recall } from "../state/reply-stream.js";
import { Markdown } from "./markdown.js";

export interface MessageProps {
  message: SessionMessage;
  /** Shown on the agent's replies. */
  model?: string | null;
  /** What memory recalled for this reply (expandable under it). */
  recalls?: readonly Recall[] | null;
}

/** One transcript row, in the web session view and the messaging session view alike. */
export function Message({ message, model, recalls }: MessageProps) {
  if (message.role === "tool") {
    return (
      <li className="message tool">
        <details>
          <summary>Tool: {message.toolName ?? "tool"} result</summary>
          <pre>{message.content}</pre>
        </details>
      </li>
    );
  }
  if (message.role === "system") {
    // Restart continuation notes (and any other system message) are the system's words: a marker
    // between the turns, never the agent's bubble.
    return (
      <li className="message system" role="note">
        <span className="label">System note</span>
        <p>{message.content}</p>
      </li>
    );
  }
  const assistant = message.role === "assistant";
  // An assistant step that only called tools has no words: its tool rows follow, an empty bubble would not help.
  if (assistant && !message.content?.trim()) return null;
  return (
    <li className={`message ${message.role}`}>
      <span className="visually-hidden">{speakerOf(message.role)}</span>
      <div className="bubble">
        {assistant ? <Markdown text={message.content ?? ""} /> : <p className="plain">{message.content}</p>}
      </div>
      <MessageMeta at={message.createdAt} model={assistant ? model : null} />
      {assistant && recalls && recalls.length > 0 && <RecallDetails recalls={recalls} />}
    </li>
  );
}

export function MessageMeta({ at, model }: { at: number; model?: string | null | undefined }) {
  return (
    <div className="meta">
      {model && (
        <span className="model" title={model}>
          {displayModel(model)}
        </span>
      )}
      <time dateTime={new Date(at).toISOString()} title={exactTime(at)}>
        {shortTime(at)}
      </time>
    </div>
  );
}

export function RecallDetails({ recalls }: { recalls: readonly Recall[] }) {
  return (
    <details className="recall">
      <summary>Memory recalled for this reply ({recalls.length})</summary>
      {recalls.map((r) => (
        <section key={r.provider}>
          <h4>{r.provider}</h4>
          <p>{r.text}</p>
        </section>
      ))}
    </details>
  );
}

function speakerOf(role: string): string {
  if (role === "user") return "You said:";
  if (role === "assistant") return "Agent said:";
  return `${role}:`;
}

/** `gpt-4o-mini@https://api.openai.com/v1` reads as `gpt-4o-mini`; the full id is the hover title. */
export function displayModel(id: string): string {
  const at = id.indexOf("@");
  return at > 0 ? id.slice(0, at) : id;
}
