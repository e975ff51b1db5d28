import { type FormEvent, type RefObject, useState } from "react";
import {
  api,
  type MessagingSession,
  type Project,
  type SearchResult,
  type SessionSummary,
} from "../api/client.js";
import { exactTime, relativeTime } from "../state/format-time.js";
import { describeMessagingSession } from "../state/messaging-labels.js";

export type OpenView =
  | { kind: "web"; id: string }
  | { kind: "messaging"; id: string }
  | { kind: "memory" }
  | null;

export interface SessionListProps {
  /** Whether the first load finished: until then an empty list is not "no sessions". */
  loaded: boolean;
  sessions: SessionSummary[];
  messaging: MessagingSession[];
  projects: Project[];
  open: OpenView;
  showArchived: boolean;
  projectId: string;
  searchRef: RefObject<HTMLInputElement | null>;
  onShowArchived: (value: boolean) => void;
  onProject: (id: string) => void;
  onNewSession: () => void;
  onNewProject: () => void;
  onOpenWeb: (id: string) => void;
  onOpenMessaging: (id: string) => void;
  onOpenMemory: () => void;
}

/** The sidebar (a drawer on narrow screens): new session, search, web and messaging sessions. */
export function SessionList(props: SessionListProps) {
  const [query, setQuery] = useState("");
  const [results, setResults] = useState<SearchResult[] | null>(null);
  const search = async (event: FormEvent) => {
    event.preventDefault();
    if (!query.trim()) return setResults(null);
    try {
      setResults(
        (await api<{ results: SearchResult[] }>("GET", `/api/search?q=${encodeURIComponent(query)}`)).results,
      );
    } catch {
      setResults([]);
    }
  };
  const pinned = props.sessions.filter((s) => s.pinned);
  const rest = props.sessions.filter((s) => !s.pinned);
  const isOpen = (kind: "web" | "messaging", id: string) =>
    props.open !== null && props.open.kind === kind && "id" in props.open && props.open.id === id;
  return (
    <>
      <button
        type="button"
        className="primary new-session"
        onClick={props.onNewSession}
        aria-keyshortcuts="Control+Shift+O"
      >
        New session
      </button>
      <form aria-label="Session search" onSubmit={search}>
        <label htmlFor="search" className="visually-hidden">
          Search sessions
        </label>
        <input
          id="search"
          ref={props.searchRef}
          type="search"
          placeholder="Search…  (Ctrl+K)"
          aria-keyshortcuts="Control+K"
          value={query}
          onChange={(e) => {
            setQuery(e.target.value);
            if (!e.target.value) setResults(null);
          }}
        />
      </form>
      {results && (
        <section aria-label="Search results">
          <h2>Results</h2>
          {results.length === 0 && <p className="muted">Nothing found.</p>}
          <ul>
            {results.map((r) => (
              <li key={r.sessionId}>
                <button type="button" className="row" onClick={() => props.onOpenWeb(r.sessionId)}>
                  <span className="row-title">{r.title}</span>
                  {r.snippet && r.snippet !== r.title && <small className="row-sub">{r.snippet}</small>}
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      {pinned.length > 0 && (
        <WebList
          loaded
          title="Pinned"
          items={pinned}
          isOpen={(id) => isOpen("web", id)}
          onOpen={props.onOpenWeb}
        />
      )}
      <WebList
        loaded={props.loaded}
        title="Web sessions"
        items={rest}
        isOpen={(id) => isOpen("web", id)}
        onOpen={props.onOpenWeb}
      />
      <div className="filters">
        <label className="toggle">
          <input
            type="checkbox"
            checked={props.showArchived}
            onChange={(e) => props.onShowArchived(e.target.checked)}
          />{" "}
          Show archived
        </label>
        <label htmlFor="project-filter">Project</label>
        <div className="inline">
          <select
            id="project-filter"
            value={props.projectId}
            onChange={(e) => props.onProject(e.target.value)}
          >
            <option value="">All sessions</option>
            {props.projects.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
          <button type="button" onClick={props.onNewProject}>
            New project
          </button>
        </div>
      </div>
      <button
        type="button"
        className={`row memory-link${props.open?.kind === "memory" ? " current" : ""}`}
        aria-current={props.open?.kind === "memory" ? "page" : undefined}
        onClick={props.onOpenMemory}
      >
        What Engram remembers
      </button>
      <section aria-label="Messaging sessions" data-testid="messaging-sessions">
        <h2>Messaging</h2>
        {props.loaded && props.messaging.length === 0 && <p className="muted">No messaging sessions yet.</p>}
        <ul>
          {props.messaging.map((m) => {
            const label = describeMessagingSession(m);
            return (
              <li key={m.sessionId}>
                <button
                  type="button"
                  className="row messaging-row"
                  aria-current={isOpen("messaging", m.sessionId) ? "page" : undefined}
                  onClick={() => props.onOpenMessaging(m.sessionId)}
                >
                  <span
                    className="platform-icon"
                    role="img"
                    aria-label={label.platform}
                    style={{ background: label.colour }}
                  >
                    {label.icon}
                  </span>
                  <span className="row-body">
                    <span className="row-title">
                      {label.name} <span className="chip">{label.kind}</span>
                      {m.archived && <span className="chip muted-chip">Archived</span>}
                      {m.ended && <span className="chip muted-chip">Ended</span>}
                    </span>
                    <small className="row-sub">{label.preview}</small>
                  </span>
                  <time
                    className="row-time"
                    dateTime={new Date(m.updatedAt).toISOString()}
                    title={exactTime(m.updatedAt)}
                  >
                    {relativeTime(m.updatedAt)}
                  </time>
                </button>
              </li>
            );
          })}
        </ul>
      </section>
    </>
  );
}

function WebList(props: {
  loaded: boolean;
  title: string;
  items: SessionSummary[];
  isOpen: (id: string) => boolean;
  onOpen: (id: string) => void;
}) {
  return (
    <section aria-label={props.title}>
      <h2>{props.title}</h2>
      {props.loaded && props.items.length === 0 && <p className="muted">No sessions yet.</p>}
      <ul>
        {props.items.map((s) => (
          <li key={s.id}>
            <button
              type="button"
              className="row"
              aria-current={props.isOpen(s.id) ? "page" : undefined}
              onClick={() => props.onOpen(s.id)}
            >
              <span className="row-body">
                <span className="row-title">
                  {s.title}
                  {s.archived && <span className="chip muted-chip">Archived</span>}
                </span>
              </span>
              <time
                className="row-time"
                dateTime={new Date(s.updatedAt).toISOString()}
                title={exactTime(s.updatedAt)}
              >
                {relativeTime(s.updatedAt)}
              </time>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
