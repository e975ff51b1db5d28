import { type FormEvent, useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";
import { Toaster, toast } from "sonner";
import { Route, Switch, useLocation } from "wouter";
import { ApiError, api, describeFailure, type SessionSummary } from "./api/client.js";
import { ChatPane } from "./components/chat-pane.js";
import {
  ConfirmDialog,
  type ConfirmRequest,
  PromptDialog,
  type PromptRequest,
} from "./components/dialogs.js";
import { MenuIcon, MoonIcon, PlusIcon, SunIcon } from "./components/icons.js";
import { MemoryView } from "./components/memory-view.js";
import { MessagingPane } from "./components/messaging-pane.js";
import { type OpenView, SessionList } from "./components/session-list.js";
import { connection } from "./state/connection.js";
import { useTheme } from "./state/theme.js";
import { useWorkspace } from "./state/use-workspace.js";

export function App() {
  const [auth, setAuth] = useState<{ authRequired: boolean; authenticated: boolean } | null>(null);
  const [failed, setFailed] = useState(false);
  const check = useCallback(() => {
    setFailed(false);
    void api<{ authRequired: boolean; authenticated: boolean }>("GET", "/api/auth").then(setAuth, () =>
      setFailed(true),
    );
  }, []);
  useEffect(check, [check]);
  if (failed)
    return (
      <main className="login">
        <div role="alert" className="banner">
          Can't reach the Engram server.{" "}
          <button type="button" onClick={check}>
            Retry
          </button>
        </div>
      </main>
    );
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
      setError(
        e instanceof ApiError && e.code !== "SERVER_UNREACHABLE" ? e.message : describeFailure(e).title,
      );
    }
  };
  return (
    <main className="login">
      <form onSubmit={submit} aria-label="Log in">
        <h1>Engram</h1>
        <label htmlFor="token">Access token</label>
        <input id="token" type="password" value={token} onChange={(e) => setToken(e.target.value)} />
        <button type="submit" className="primary">
          Log in
        </button>
        {error && <p role="alert">{error}</p>}
      </form>
    </main>
  );
}

function useOpenView(): OpenView {
  const [location] = useLocation();
  const web = /^\/s\/([^/]+)$/.exec(location);
  if (web) return { kind: "web", id: decodeURIComponent(web[1]!) };
  const messaging = /^\/m\/([^/]+)$/.exec(location);
  if (messaging) return { kind: "messaging", id: decodeURIComponent(messaging[1]!) };
  if (location === "/memory") return { kind: "memory" };
  return null;
}

function Workspace() {
  const [showArchived, setShowArchived] = useState(false);
  const [projectId, setProjectId] = useState("");
  const data = useWorkspace({ showArchived, projectId });
  const [, navigate] = useLocation();
  const open = useOpenView();
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [promptRequest, setPromptRequest] = useState<PromptRequest | null>(null);
  const [confirmRequest, setConfirmRequest] = useState<ConfirmRequest | null>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  const theme = useTheme();
  const down = useSyncExternalStore(connection.subscribe, connection.isDown);

  const go = (path: string) => {
    navigate(path);
    setDrawerOpen(false);
  };

  const newSession = async () => {
    try {
      const prev = open?.kind === "web" ? open.id : undefined;
      const { session } = await api<{ session: SessionSummary }>(
        "POST",
        "/api/session/new",
        prev ? { prevSessionId: prev } : {},
      );
      await data.refreshSessions();
      go(`/s/${encodeURIComponent(session.id)}`);
      requestAnimationFrame(() => document.getElementById("message")?.focus());
    } catch (error) {
      const failure = describeFailure(error);
      toast.error(failure.title, { description: failure.hint });
    }
  };

  // Shortcuts: Ctrl/Cmd+K searches, Ctrl/Cmd+Shift+O starts a session, Escape closes the drawer.
  const shortcuts = useRef({ newSession, setDrawerOpen });
  shortcuts.current = { newSession, setDrawerOpen };
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const mod = event.ctrlKey || event.metaKey;
      if (mod && !event.shiftKey && event.key.toLowerCase() === "k") {
        event.preventDefault();
        shortcuts.current.setDrawerOpen(true);
        requestAnimationFrame(() => searchRef.current?.focus());
      } else if (mod && event.shiftKey && event.key.toLowerCase() === "o") {
        event.preventDefault();
        void shortcuts.current.newSession();
      } else if (event.key === "Escape") {
        shortcuts.current.setDrawerOpen(false);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  const retryConnection = async () => {
    try {
      await api("GET", "/api/health");
      await Promise.all([data.refreshSessions(), data.refreshMessaging()]);
    } catch {
      toast.error("Still can't reach the Engram server");
    }
  };

  const confirm = (request: ConfirmRequest) => setConfirmRequest(request);
  const prompt = (request: PromptRequest) => setPromptRequest(request);

  return (
    <div className={`layout${drawerOpen ? " drawer-open" : ""}`}>
      <a className="skip-link" href="#main">
        Skip to conversation
      </a>
      <nav className="sidebar" aria-label="Sessions" id="sidebar">
        <div className="sidebar-top">
          <span className="brand">Engram</span>
          <button
            type="button"
            className="ghost"
            onClick={theme.toggle}
            aria-label={`Theme: ${theme.choice === "system" ? `system (${theme.theme})` : theme.choice}. Switch theme`}
            title="Switch theme"
          >
            {theme.theme === "dark" ? <MoonIcon /> : <SunIcon />}
          </button>
        </div>
        <SessionList
          loaded={data.loaded}
          sessions={data.sessions}
          messaging={data.messaging}
          projects={data.projects}
          open={open}
          showArchived={showArchived}
          projectId={projectId}
          searchRef={searchRef}
          onShowArchived={setShowArchived}
          onProject={setProjectId}
          onNewSession={() => void newSession()}
          onNewProject={() =>
            prompt({
              title: "New project",
              label: "Project name",
              confirmLabel: "Create",
              onSubmit: (name) =>
                void api("POST", "/api/projects", { name }).then(
                  () => {
                    toast.success(`Project “${name}” created`);
                    void data.refreshSessions();
                  },
                  (error: unknown) =>
                    toast.error(describeFailure(error).title, { description: describeFailure(error).hint }),
                ),
            })
          }
          onOpenWeb={(id) => go(`/s/${encodeURIComponent(id)}`)}
          onOpenMessaging={(id) => go(`/m/${encodeURIComponent(id)}`)}
          onOpenMemory={() => go("/memory")}
        />
      </nav>
      <button
        type="button"
        className="drawer-scrim"
        aria-label="Close the session list"
        tabIndex={-1}
        onClick={() => setDrawerOpen(false)}
      />
      <main className="content" id="main">
        <div className="topbar">
          <button
            type="button"
            className="ghost"
            aria-label="Sessions"
            aria-controls="sidebar"
            aria-expanded={drawerOpen}
            onClick={() => setDrawerOpen((o) => !o)}
          >
            <MenuIcon />
          </button>
          <span className="brand">Engram</span>
          <button type="button" className="ghost" aria-label="New session" onClick={() => void newSession()}>
            <PlusIcon />
          </button>
        </div>
        {down && (
          <div role="alert" className="banner" data-testid="server-down">
            <span>
              <strong>Can't reach the Engram server.</strong> It may be restarting; what you typed is kept.
            </span>
            <button type="button" onClick={() => void retryConnection()}>
              Retry
            </button>
          </div>
        )}
        <Switch>
          <Route path="/s/:id">
            {(params) => (
              <ChatPane
                key={params.id}
                sessionId={decodeURIComponent(params.id)}
                projects={data.projects}
                model={data.model}
                onChanged={() => void data.refreshSessions()}
                onOpen={(id) => go(id ? `/s/${encodeURIComponent(id)}` : "/")}
                prompt={prompt}
                confirm={confirm}
              />
            )}
          </Route>
          <Route path="/m/:id">
            {(params) => <MessagingPane key={params.id} sessionId={decodeURIComponent(params.id)} />}
          </Route>
          <Route path="/memory">
            <MemoryView confirm={confirm} prompt={prompt} />
          </Route>
          <Route>
            <div className="empty">
              <h1>Engram</h1>
              <p>Start a new session or pick one from the list.</p>
              <button type="button" className="primary" onClick={() => void newSession()}>
                Start a session
              </button>
              <p className="muted">Ctrl+K searches · Ctrl+Shift+O starts a session</p>
            </div>
          </Route>
        </Switch>
      </main>
      <PromptDialog request={promptRequest} onClose={() => setPromptRequest(null)} />
      <ConfirmDialog request={confirmRequest} onClose={() => setConfirmRequest(null)} />
      <Toaster theme={theme.theme} position="top-right" closeButton />
    </div>
  );
}
