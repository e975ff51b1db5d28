import { useCallback, useEffect, useState } from "react";
import { api, type MessagingSession, type Project, type SessionSummary } from "../api/client.js";

/** Seed 004 polling fallback for the messaging list, next to the live `/api/events` feed. */
const LIST_POLL_MS = 10_000;

export interface WorkspaceFilters {
  showArchived: boolean;
  projectId: string;
}

/** The sidebar's data: web sessions (with filters), projects, the gateway's messaging sessions, the model. */
export function useWorkspace(filters: WorkspaceFilters) {
  const [sessions, setSessions] = useState<SessionSummary[]>([]);
  const [projects, setProjects] = useState<Project[]>([]);
  const [messaging, setMessaging] = useState<MessagingSession[]>([]);
  const [model, setModel] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);

  const refreshSessions = useCallback(async () => {
    const query = new URLSearchParams();
    if (filters.showArchived) query.set("archived", "1");
    if (filters.projectId) query.set("projectId", filters.projectId);
    try {
      const [list, projectList] = await Promise.all([
        api<{ sessions: SessionSummary[] }>("GET", `/api/sessions?${query}`),
        api<{ projects: Project[] }>("GET", "/api/projects"),
      ]);
      setSessions(list.sessions);
      setProjects(projectList.projects);
      setLoaded(true);
    } catch {
      // The connection banner says the server is down; the last list stays on screen.
    }
  }, [filters.showArchived, filters.projectId]);

  const refreshMessaging = useCallback(async () => {
    try {
      setMessaging((await api<{ sessions: MessagingSession[] }>("GET", "/api/messaging/sessions")).sessions);
    } catch {
      // As above: keep the last list.
    }
  }, []);

  useEffect(() => {
    void refreshSessions();
  }, [refreshSessions]);
  useEffect(() => {
    void api<{ model: string }>("GET", "/api/info").then(
      (info) => setModel(info.model),
      () => setModel(null),
    );
  }, []);
  useEffect(() => {
    void refreshMessaging();
    // Live updates over SSE, with the seed's polling as the fallback when the stream is down.
    const events = new EventSource("/api/events");
    events.addEventListener("messaging", () => void refreshMessaging());
    events.addEventListener("sessions", () => void refreshSessions());
    const timer = setInterval(() => void refreshMessaging(), LIST_POLL_MS);
    return () => {
      events.close();
      clearInterval(timer);
    };
  }, [refreshMessaging, refreshSessions]);

  return { loaded, sessions, projects, messaging, model, refreshSessions, refreshMessaging };
}
