import type { SessionMessage } from "./api.js";

/** One transcript row, in the web session view and the messaging session view alike. */
export function Message({ message }: { message: SessionMessage }) {
  if (message.role === "tool") {
    return (
      <li className="message tool">
        <details>
          <summary>🔧 {message.toolName ?? "tool"} result</summary>
          <pre>{message.content}</pre>
        </details>
      </li>
    );
  }
  if (message.role === "system") {
    // Restart continuation notes (and any other system message) are the system's words: a note
    // between the turns, never the agent's bubble.
    return (
      <li className="message system">
        <span className="label">System note</span>
        <p>{message.content}</p>
      </li>
    );
  }
  return (
    <li className={`message ${message.role}`}>
      <span className="visually-hidden">{speakerOf(message.role)}</span>
      <p>{message.content}</p>
    </li>
  );
}

function speakerOf(role: string): string {
  if (role === "user") return "You said:";
  if (role === "assistant") return "Agent said:";
  return `${role}:`;
}
