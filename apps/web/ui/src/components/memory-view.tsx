import { useCallback, useEffect, useState } from "react";
import { toast } from "sonner";
import { ApiError, api, describeFailure, type MemoryPanel } from "../api/client.js";
import { exactTime, relativeTime } from "../state/format-time.js";
import type { Recall } from "../state/reply-stream.js";
import type { ConfirmRequest, PromptRequest } from "./dialogs.js";

/** The side panel of a web session: what each provider recalled for the last turn, and commit state. */
export function MemoryPanelView({
  panel,
  liveRecalls,
}: {
  panel: MemoryPanel | null;
  liveRecalls: readonly Recall[] | null;
}) {
  return (
    <aside className="memory" id="memory-panel" aria-label="Memory" data-testid="memory-panel">
      <h2>Memory</h2>
      {(panel?.providers ?? []).map((p) => {
        const live = liveRecalls?.find((r) => r.provider === p.name)?.text;
        const recall = liveRecalls ? (live ?? null) : p.lastRecall;
        return (
          <section key={p.name}>
            <h3>{p.name}</h3>
            <p className={recall ? "" : "muted"}>{recall ? recall : "Nothing recalled for the last turn."}</p>
          </section>
        );
      })}
      <p>
        Uncommitted turns: <strong>{panel?.uncommittedTurns ?? 0}</strong>
      </p>
      <p>
        Last commit:{" "}
        {panel?.lastCommit ? (
          <span title={exactTime(panel.lastCommit.at)}>
            {panel.lastCommit.status}, {relativeTime(panel.lastCommit.at)}
          </span>
        ) : (
          "never"
        )}
      </p>
    </aside>
  );
}

export interface MemoryFact {
  id: string;
  provider: string;
  content: string;
  category?: string | null;
  trust?: number | null;
  sourceSessionId?: string | null;
  createdAt?: number | null;
  updatedAt?: number | null;
}
interface ProviderInventory {
  name: string;
  canList: boolean;
  canDelete: boolean;
  canEdit?: boolean;
}

/** Everything the providers remember in the web owner's scope: search it, delete with confirmation. */
export function MemoryView({
  confirm,
  prompt,
}: {
  confirm: (request: ConfirmRequest) => void;
  prompt: (request: PromptRequest) => void;
}) {
  const [facts, setFacts] = useState<MemoryFact[] | null>(null);
  const [providers, setProviders] = useState<ProviderInventory[]>([]);
  const [query, setQuery] = useState("");
  const [unavailable, setUnavailable] = useState("");

  const load = useCallback(async (q: string) => {
    try {
      const result = await api<{ facts: MemoryFact[]; providers: ProviderInventory[] }>(
        "GET",
        `/api/memory${q ? `?q=${encodeURIComponent(q)}` : ""}`,
      );
      setFacts(result.facts);
      setProviders(result.providers);
      setUnavailable("");
    } catch (error) {
      setFacts([]);
      setUnavailable(
        error instanceof ApiError && error.status === 404
          ? "This server does not offer a memory listing."
          : describeFailure(error).title,
      );
    }
  }, []);
  useEffect(() => {
    void load("");
  }, [load]);

  const remove = (fact: MemoryFact) =>
    confirm({
      title: "Forget this fact?",
      description: `Engram will no longer remember: “${fact.content}”`,
      confirmLabel: "Forget",
      destructive: true,
      onConfirm: () =>
        void api(
          "DELETE",
          `/api/memory/${encodeURIComponent(fact.provider)}/${encodeURIComponent(fact.id)}`,
        ).then(
          () => {
            toast.success("Forgotten");
            void load(query);
          },
          (error: unknown) =>
            toast.error(describeFailure(error).title, { description: describeFailure(error).hint }),
        ),
    });

  const edit = (fact: MemoryFact) =>
    prompt({
      title: "Correct this fact",
      label: "What Engram should remember",
      initial: fact.content,
      confirmLabel: "Save",
      onSubmit: (content) =>
        void api("PATCH", `/api/memory/${encodeURIComponent(fact.provider)}/${encodeURIComponent(fact.id)}`, {
          content,
        }).then(
          () => {
            toast.success("Corrected");
            void load(query);
          },
          (error: unknown) =>
            toast.error(describeFailure(error).title, { description: describeFailure(error).hint }),
        ),
    });

  const hidden = providers.filter((p) => !p.canList);
  return (
    <div className="memory-view">
      <header className="chat-header">
        <h1>What Engram remembers</h1>
      </header>
      <div className="memory-view-body">
        <form
          aria-label="Memory search"
          onSubmit={(e) => {
            e.preventDefault();
            void load(query.trim());
          }}
        >
          <label htmlFor="memory-search" className="visually-hidden">
            Search memory
          </label>
          <input
            id="memory-search"
            type="search"
            placeholder="Search facts…"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
          />
        </form>
        {unavailable && <p className="muted">{unavailable}</p>}
        {hidden.length > 0 && (
          <p className="muted">
            {hidden.map((p) => p.name).join(", ")} cannot list what{" "}
            {hidden.length === 1 ? "it holds" : "they hold"}.
          </p>
        )}
        {facts && facts.length === 0 && !unavailable && (
          <p className="muted">Nothing remembered{query ? " matches" : " yet"}.</p>
        )}
        <ul className="facts" aria-label="Remembered facts">
          {(facts ?? []).map((fact) => {
            const status = providers.find((p) => p.name === fact.provider);
            const canDelete = status?.canDelete ?? false;
            const canEdit = status?.canEdit ?? false;
            return (
              <li key={`${fact.provider}:${fact.id}`} className="fact">
                <p className="fact-text">{fact.content}</p>
                <div className="meta">
                  <span className="chip">{fact.provider}</span>
                  {fact.category && <span className="chip muted-chip">{fact.category}</span>}
                  {typeof fact.trust === "number" && <span>trust {fact.trust.toFixed(2)}</span>}
                  {fact.createdAt && (
                    <time title={exactTime(fact.createdAt)}>{relativeTime(fact.createdAt)}</time>
                  )}
                  {fact.sourceSessionId && <span>from session {fact.sourceSessionId}</span>}
                  {canEdit && (
                    <button
                      type="button"
                      className="ghost small"
                      onClick={() => edit(fact)}
                      aria-label={`Edit: ${fact.content}`}
                    >
                      Edit
                    </button>
                  )}
                  {canDelete && (
                    <button
                      type="button"
                      className="ghost small"
                      onClick={() => remove(fact)}
                      aria-label={`Forget: ${fact.content}`}
                    >
                      Forget
                    </button>
                  )}
                </div>
              </li>
            );
          })}
        </ul>
      </div>
    </div>
  );
}
