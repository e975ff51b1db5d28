import { type FormEvent, useCallback, useEffect, useRef, useState } from "react";
import {
  ApiError,
  api,
  type MemoryPanel,
  type MessagingSession,
  type Project,
  type Session,
  type SessionMessage,
  type SessionSummary,
} from "./api.js";
import { Message } from "./message.js";
import { transcriptSignature } from "./signature.js";

type View = { kind: "web"; id: string } | { kind: "messaging"; id: string } | null;

interface ToolLine {
  id: string;
  name: string;
  args?: string;
  result?: unknown;
}

/** Seed 004 polling fallback: the list every 10 s, the open messaging transcript every 5 s. */
const LIST_POLL_MS = 10_000;
const TRANSCRIPT_POLL_MS = 5_000;

export function App() {
  const [auth, setAuth] = useState<{ authRequired: boolean; authenticated: boolean } | null>(null);
  useEffect(() => {
    void api<{ authRequired: boolean; authenticated: boolean }>("GET", "/api/auth").then(setAuth);
  }, []);
  if (!auth) return <p className="loading">Loading…</p>;
  if (auth.authRequired && !auth.authenticated)
    return <Login onDone={() => setAuth({ ...auth, authenticated: true })} />;
  return <Workspace />;
}

function Login({ onDone }: { onDone: () => void }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState("");
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      await api("POST", "/api/login", { token });
      onDone();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : "Login failed");
    }
  };
  return (
    <main className="login">
      <form onSubmit={submit} aria-label="Log in">
        <h1>Engram</h1>
        <label htmlFor="token">Access token</label>
        <input id="token" type="password" value={token} onChange={(e) => setToken(e.target.value)} />
        <button type="submit">Log in</button>
        {error && <p role="alert">{error}</p>}
      </form>
    </main>
  );
}

function Workspace() {
  const [sessions, setSessions] = useState<SessionSummary[]>([]);
  const [messaging, setMessaging] = useState<MessagingSession[]>([]);
  const [showArchived, setShowArchived] = useState(false);
  const [projects, setProjects] = useState<Project[]>([]);
  const [projectFilter, setProjectFilter] = useState("");
  const [view, setView] = useState<View>(null);
  const [query, setQuery] = useState("");
  const [results, setResults] = useState<{ sessionId: string; title: string; snippet: string }[] | null>(
    null,
  );
  const [error, setError] = useState("");

  const refreshSessions = useCallback(async () => {
    const query = new URLSearchParams();
    if (showArchived) query.set("archived", "1");
    if (projectFilter) query.set("projectId", projectFilter);
    const list = await api<{ sessions: SessionSummary[] }>("GET", `/api/sessions?${query}`);
    setSessions(list.sessions);
    setProjects((await api<{ projects: Project[] }>("GET", "/api/projects")).projects);
  }, [showArchived, projectFilter]);
  const refreshMessaging = useCallback(async () => {
    const list = await api<{ sessions: MessagingSession[] }>("GET", "/api/messaging/sessions");
    setMessaging(list.sessions);
  }, []);

  useEffect(() => {
    void refreshSessions();
  }, [refreshSessions]);
  useEffect(() => {
    void refreshMessaging();
    // Live updates over SSE, with the seed's polling as the fallback when the stream is down.
    const events = new EventSource("/api/events");
    events.addEventListener("messaging", () => void refreshMessaging());
    const timer = setInterval(() => void refreshMessaging(), LIST_POLL_MS);
    return () => {
      events.close();
      clearInterval(timer);
    };
  }, [refreshMessaging]);

  const newSession = async () => {
    try {
      const prev = view?.kind === "web" ? view.id : undefined;
      const { session } = await api<{ session: SessionSummary }>(
        "POST",
        "/api/session/new",
        prev ? { prevSessionId: prev } : {},
      );
      await refreshSessions();
      setView({ kind: "web", id: session.id });
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  const search = async (event: FormEvent) => {
    event.preventDefault();
    if (!query.trim()) return setResults(null);
    const found = await api<{ results: { sessionId: string; title: string; snippet: string }[] }>(
      "GET",
      `/api/search?q=${encodeURIComponent(query)}`,
    );
    setResults(found.results);
  };

  const pinned = sessions.filter((s) => s.pinned);
  const rest = sessions.filter((s) => !s.pinned);
  return (
    <div className="layout">
      <nav className="sidebar" aria-label="Sessions">
        <button type="button" className="primary" onClick={() => void newSession()}>
          New session
        </button>
        <form aria-label="Search sessions" onSubmit={search}>
          <label htmlFor="search" className="visually-hidden">
            Search sessions
          </label>
          <input id="search" placeholder="Search…" value={query} onChange={(e) => setQuery(e.target.value)} />
        </form>
        {results && (
          <section aria-label="Search results">
            <h2>Results</h2>
            <ul>
              {results.map((r) => (
                <li key={r.sessionId}>
                  <button type="button" onClick={() => setView({ kind: "web", id: r.sessionId })}>
                    {r.title}
                    <small>{r.snippet}</small>
                  </button>
                </li>
              ))}
            </ul>
          </section>
        )}
        {pinned.length > 0 && <SessionList title="Pinned" items={pinned} view={view} onOpen={setView} />}
        <SessionList title="Web sessions" items={rest} view={view} onOpen={setView} />
        <label className="toggle">
          <input type="checkbox" checked={showArchived} onChange={(e) => setShowArchived(e.target.checked)} />{" "}
          Show archived
        </label>
        <label htmlFor="project-filter">Project</label>
        <select id="project-filter" value={projectFilter} onChange={(e) => setProjectFilter(e.target.value)}>
          <option value="">All sessions</option>
          {projects.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
        <button
          type="button"
          onClick={() => {
            const name = window.prompt("New project name");
            if (name)
              void api("POST", "/api/projects", { name }).then(refreshSessions, (e: unknown) =>
                setError(String(e)),
              );
          }}
        >
          New project
        </button>
        <section aria-label="Messaging sessions" data-testid="messaging-sessions">
          <h2>Messaging</h2>
          <ul>
            {messaging.map((m) => (
              <li key={m.sessionId}>
                <button
                  type="button"
                  aria-current={view?.kind === "messaging" && view.id === m.sessionId}
                  onClick={() => setView({ kind: "messaging", id: m.sessionId })}
                >
                  <span className="badge">{m.platform}</span> {m.title}
                </button>
              </li>
            ))}
          </ul>
        </section>
      </nav>
      <main className="content">
        {error && <p role="alert">{error}</p>}
        {view?.kind === "web" && (
          <WebChat
            key={view.id}
            sessionId={view.id}
            projects={projects}
            onChanged={() => void refreshSessions()}
            onOpen={setView}
          />
        )}
        {view?.kind === "messaging" && <MessagingTranscript key={view.id} sessionId={view.id} />}
        {!view && <p className="empty">Start a new session or pick one from the list.</p>}
      </main>
    </div>
  );
}

function SessionList(props: {
  title: string;
  items: SessionSummary[];
  view: View;
  onOpen: (v: View) => void;
}) {
  return (
    <section aria-label={props.title}>
      <h2>{props.title}</h2>
      <ul>
        {props.items.map((s) => (
          <li key={s.id}>
            <button
              type="button"
              aria-current={props.view?.kind === "web" && props.view.id === s.id}
              onClick={() => props.onOpen({ kind: "web", id: s.id })}
            >
              {s.title}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function WebChat({
  sessionId,
  projects,
  onChanged,
  onOpen,
}: {
  sessionId: string;
  projects: Project[];
  onChanged: () => void;
  onOpen: (v: View) => void;
}) {
  const [session, setSession] = useState<Session | null>(null);
  const [draft, setDraft] = useState("");
  const [streaming, setStreaming] = useState<{ streamId: string; text: string; tools: ToolLine[] } | null>(
    null,
  );
  const [memory, setMemory] = useState<MemoryPanel | null>(null);
  const [liveRecalls, setLiveRecalls] = useState<{ provider: string; text: string }[] | null>(null);
  const [error, setError] = useState("");
  const source = useRef<EventSource | null>(null);

  const load = useCallback(async () => {
    const [{ session: loaded }, panel] = await Promise.all([
      api<{ session: Session }>("GET", `/api/session/${sessionId}`),
      api<MemoryPanel>("GET", `/api/session/${sessionId}/memory`),
    ]);
    setSession(loaded);
    setMemory(panel);
  }, [sessionId]);
  useEffect(() => {
    void load();
    return () => source.current?.close();
  }, [load]);

  const follow = (streamId: string) => {
    setStreaming({ streamId, text: "", tools: [] });
    setLiveRecalls(null);
    const events = new EventSource(`/api/chat/stream?streamId=${encodeURIComponent(streamId)}`);
    source.current = events;
    events.addEventListener("token", (e) => {
      const { text } = JSON.parse((e as MessageEvent).data) as { text: string };
      setStreaming((s) => (s ? { ...s, text: s.text + text } : s));
    });
    events.addEventListener("tool", (e) => {
      const tool = JSON.parse((e as MessageEvent).data) as ToolLine;
      setStreaming((s) => (s ? { ...s, tools: [...s.tools.filter((t) => t.id !== tool.id), tool] } : s));
    });
    events.addEventListener("memory", (e) => {
      setLiveRecalls(
        (JSON.parse((e as MessageEvent).data) as { recalls: { provider: string; text: string }[] }).recalls,
      );
    });
    const finish = (message?: string) => {
      events.close();
      setStreaming(null);
      if (message) setError(message);
      void load();
      onChanged();
    };
    events.addEventListener("done", () => finish());
    events.addEventListener("error", (e) => {
      const data = (e as MessageEvent).data;
      finish(typeof data === "string" ? (JSON.parse(data) as { message: string }).message : undefined);
    });
  };

  const send = async (event: FormEvent) => {
    event.preventDefault();
    const message = draft.trim();
    if (!message || streaming) return;
    setError("");
    try {
      const { streamId } = await api<{ streamId: string }>("POST", "/api/chat/start", { sessionId, message });
      setDraft("");
      setSession((s) =>
        s
          ? {
              ...s,
              messages: [...s.messages, { id: -1, role: "user", content: message, createdAt: Date.now() }],
            }
          : s,
      );
      follow(streamId);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  const act = async (work: () => Promise<unknown>) => {
    setError("");
    try {
      await work();
      await load();
      onChanged();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  if (!session) return <p className="loading">Loading…</p>;
  return (
    <div className="chat">
      <header className="chat-header">
        <h1>{session.title}</h1>
        <div className="actions">
          <button
            type="button"
            onClick={() =>
              void act(() => api("PATCH", `/api/session/${sessionId}`, { pinned: !session.pinned }))
            }
          >
            {session.pinned ? "Unpin" : "Pin"}
          </button>
          <button
            type="button"
            onClick={() => {
              const title = window.prompt("Rename session", session.title);
              if (title) void act(() => api("PATCH", `/api/session/${sessionId}`, { title }));
            }}
          >
            Rename
          </button>
          <label htmlFor="move-project" className="visually-hidden">
            Project
          </label>
          <select
            id="move-project"
            value={session.projectId ?? ""}
            onChange={(e) =>
              void act(() => api("PATCH", `/api/session/${sessionId}`, { projectId: e.target.value || null }))
            }
          >
            <option value="">No project</option>
            {projects.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
          <button
            type="button"
            onClick={() =>
              void act(() => api("PATCH", `/api/session/${sessionId}`, { archived: !session.archived }))
            }
          >
            {session.archived ? "Unarchive" : "Archive"}
          </button>
          <button
            type="button"
            onClick={() => void act(() => api("POST", `/api/session/${sessionId}/undo`, {}))}
            disabled={!!streaming}
          >
            Undo
          </button>
          <button
            type="button"
            disabled={!!streaming}
            onClick={() =>
              void api<{ streamId: string }>("POST", `/api/session/${sessionId}/retry`, {}).then(
                ({ streamId }) => follow(streamId),
                (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
              )
            }
          >
            Retry
          </button>
          <button
            type="button"
            onClick={() =>
              void api<{ session: SessionSummary }>("POST", `/api/session/${sessionId}/branch`, {}).then(
                ({ session: child }) => {
                  onChanged();
                  onOpen({ kind: "web", id: child.id });
                },
              )
            }
          >
            Branch
          </button>
          <button
            type="button"
            onClick={() => {
              if (window.confirm("Delete this session?"))
                void api("DELETE", `/api/session/${sessionId}`).then(() => {
                  onChanged();
                  onOpen(null);
                });
            }}
          >
            Delete
          </button>
        </div>
      </header>
      <ol className="transcript" aria-label="Transcript">
        {session.messages.map((m) => (
          <Message key={`${m.id}-${m.createdAt}`} message={m} />
        ))}
        {streaming && (
          <li className="message assistant" aria-live="polite" aria-busy="true" data-testid="streaming-reply">
            {streaming.tools.map((t) => (
              <details key={t.id} className="tool">
                <summary>🔧 {t.name}</summary>
                <pre>{t.args}</pre>
                {t.result !== undefined && <pre>{JSON.stringify(t.result)}</pre>}
              </details>
            ))}
            <p>{streaming.text}</p>
          </li>
        )}
      </ol>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <form className="composer" onSubmit={send}>
        <label htmlFor="message" className="visually-hidden">
          Message
        </label>
        <textarea
          id="message"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey) {
              e.preventDefault();
              void send(e as unknown as FormEvent);
            }
          }}
          placeholder="Message the agent"
          rows={2}
        />
        <button type="submit" disabled={!!streaming || !draft.trim()}>
          Send
        </button>
        {streaming && (
          <button
            type="button"
            onClick={() => void api("POST", "/api/chat/cancel", { streamId: streaming.streamId })}
          >
            Stop
          </button>
        )}
      </form>
      <aside className="memory" aria-label="Memory" data-testid="memory-panel">
        <h2>Memory</h2>
        {(memory?.providers ?? []).map((p) => {
          const live = liveRecalls?.find((r) => r.provider === p.name)?.text;
          const recall = liveRecalls ? (live ?? null) : p.lastRecall;
          return (
            <section key={p.name}>
              <h3>{p.name}</h3>
              <p>{recall ? recall : "Nothing recalled for the last turn."}</p>
            </section>
          );
        })}
        <p>
          Uncommitted turns: <strong>{memory?.uncommittedTurns ?? 0}</strong>
        </p>
        <p>
          Last commit:{" "}
          {memory?.lastCommit
            ? `${memory.lastCommit.status} at ${new Date(memory.lastCommit.at).toLocaleTimeString()}`
            : "never"}
        </p>
      </aside>
    </div>
  );
}

function MessagingTranscript({ sessionId }: { sessionId: string }) {
  const [session, setSession] = useState<
    (MessagingSession & { source: string; messages: SessionMessage[] }) | null
  >(null);
  const signature = useRef("");
  useEffect(() => {
    const refresh = async () => {
      const { session: loaded } = await api<{
        session: MessagingSession & { source: string; messages: SessionMessage[] };
      }>("GET", `/api/messaging/session/${sessionId}`);
      // Re-render only when role + timestamp + content changed (seed 004).
      const next = transcriptSignature(loaded.messages);
      if (next !== signature.current) {
        signature.current = next;
        setSession(loaded);
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
  if (!session) return <p className="loading">Loading…</p>;
  return (
    <div className="chat">
      <header className="chat-header">
        <h1>
          <span className="badge">{session.source}</span> {session.title ?? "Messaging session"}
        </h1>
      </header>
      <ol className="transcript" aria-label="Transcript">
        {session.messages.map((m) => (
          <Message key={m.id} message={m} />
        ))}
      </ol>
    </div>
  );
}
