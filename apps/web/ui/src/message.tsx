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
  return (
    <li className={`message ${message.role}`}>
      <span className="visually-hidden">{message.role === "user" ? "You said:" : "Agent said:"}</span>
      <p>{message.content}</p>
    </li>
  );
}
