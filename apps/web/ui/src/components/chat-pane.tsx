import * as Menu from "@radix-ui/react-dropdown-menu";
import { type FormEvent, useCallback, useEffect, useReducer, useRef, useState } from "react";
import { toast } from "sonner";
import {
  ApiError,
  api,
  describeFailure,
  type MemoryPanel,
  type Project,
  type Session,
  type SessionSummary,
} from "../api/client.js";
import { IDLE_REPLY, isLive, type Recall, replyReducer, type ToolLine } from "../state/reply-stream.js";
import { useEventStream } from "../state/use-event-stream.js";
import type { ConfirmRequest, PromptRequest } from "./dialogs.js";
import { MoreIcon } from "./icons.js";
import { Markdown } from "./markdown.js";
import { MemoryPanelView } from "./memory-view.js";
import { Message, MessageMeta, RecallDetails } from "./message.js";

export interface ChatPaneProps {
  sessionId: string;
  projects: Project[];
  model: string | null;
  onChanged: () => void;
  onOpen: (id: string | null) => void;
  prompt: (request: PromptRequest) => void;
  confirm: (request: ConfirmRequest) => void;
}

/** A web session: header with its actions menu, the transcript with the live reply, the composer. */
export function ChatPane(props: ChatPaneProps) {
  const { sessionId, onChanged } = props;
  const [session, setSession] = useState<Session | null>(null);
  const [missing, setMissing] = useState(false);
  const [memory, setMemory] = useState<MemoryPanel | null>(null);
  const [memoryOpen, setMemoryOpen] = useState(false);
  const [reply, dispatch] = useReducer(replyReducer, IDLE_REPLY);
  const [draft, setDraft] = useState("");
  const [sendError, setSendError] = useState<unknown>(null);
  const transcriptEnd = useRef<HTMLLIElement>(null);
  const composer = useRef<HTMLTextAreaElement>(null);

  const load = useCallback(async () => {
    try {
      const [{ session: loaded }, panel] = await Promise.all([
        api<{ session: Session }>("GET", `/api/session/${encodeURIComponent(sessionId)}`),
        api<MemoryPanel>("GET", `/api/session/${encodeURIComponent(sessionId)}/memory`),
      ]);
      setSession(loaded);
      setMemory(panel);
      return loaded;
    } catch (error) {
      if (error instanceof ApiError && error.code === "SESSION_NOT_FOUND") setMissing(true);
      return null;
    }
  }, [sessionId]);
  useEffect(() => {
    void load();
  }, [load]);

  // A turn started before a reload is still running on the server: check until it ends.
  useEffect(() => {
    if (!session?.streaming || reply.phase !== "idle") return;
    const timer = setInterval(() => void load(), 1500);
    return () => clearInterval(timer);
  }, [session?.streaming, reply.phase, load]);

  const streamUrl =
    reply.streamId && isLive(reply)
      ? `/api/chat/stream?streamId=${encodeURIComponent(reply.streamId)}`
      : null;
  useEventStream(
    streamUrl,
    {
      token: (data) => dispatch({ type: "token", text: (data as { text: string }).text }),
      tool: (data) => dispatch({ type: "tool", tool: data as ToolLine }),
      memory: (data) => dispatch({ type: "memory", recalls: (data as { recalls: Recall[] }).recalls }),
      done: () => {
        dispatch({ type: "done" });
        // The streamed text stays until the saved transcript replaces it in the same render: no flicker.
        void load().then(() => {
          dispatch({ type: "settled" });
          onChanged();
        });
      },
      error: (data) => {
        const failure = data as { code: string; message: string; details?: Record<string, unknown> };
        dispatch({ type: "error", failure });
        void load();
        onChanged();
      },
    },
    { onBroken: () => dispatch({ type: "broken" }) },
  );

  // biome-ignore lint/correctness/useExhaustiveDependencies: these are the triggers: scroll when the transcript grows.
  useEffect(() => {
    transcriptEnd.current?.scrollIntoView?.({ block: "end" });
  }, [session?.messages.length, reply.text, reply.phase]);

  const start = async (work: () => Promise<{ streamId: string }>, optimisticText?: string) => {
    setSendError(null);
    try {
      const { streamId } = await work();
      if (optimisticText !== undefined) {
        setDraft("");
        setSession((s) =>
          s
            ? {
                ...s,
                messages: [
                  ...s.messages,
                  { id: -1, role: "user", content: optimisticText, createdAt: Date.now() },
                ],
              }
            : s,
        );
      }
      dispatch({ type: "start", streamId, at: Date.now() });
      return true;
    } catch (error) {
      // The draft stays in the composer: nothing typed is lost when the server is down.
      setSendError(error);
      return false;
    }
  };

  const send = async (event?: FormEvent) => {
    event?.preventDefault();
    const message = draft.trim();
    if (!message || isLive(reply)) return;
    await start(() => api<{ streamId: string }>("POST", "/api/chat/start", { sessionId, message }), message);
  };

  const retry = async () => {
    const ok = await start(() =>
      api<{ streamId: string }>("POST", `/api/session/${encodeURIComponent(sessionId)}/retry`, {}),
    );
    if (ok) void load();
  };

  const act = async (work: () => Promise<unknown>, done?: string) => {
    try {
      await work();
      await load();
      onChanged();
      if (done) toast.success(done);
    } catch (error) {
      const failure = describeFailure(error);
      toast.error(failure.title, { description: failure.hint });
    }
  };

  if (missing)
    return (
      <div className="empty">
        <p>This session no longer exists.</p>
      </div>
    );
  if (!session) return <p className="loading">Loading…</p>;

  const path = `/api/session/${encodeURIComponent(sessionId)}`;
  const model = session.model ?? props.model;
  const lastAssistant = session.messages.findLastIndex((m) => m.role === "assistant");
  const panelRecalls: Recall[] = (memory?.providers ?? [])
    .filter((p) => p.lastRecall)
    .map((p) => ({ provider: p.name, text: p.lastRecall as string }));
  const lastRecalls = reply.recalls ?? (panelRecalls.length > 0 ? panelRecalls : null);
  const last = session.messages.at(-1);
  // A user message with no reply after it, while nothing runs: the turn was cut off (a restart, a crash).
  const unanswered = reply.phase === "idle" && !session.streaming && last?.role === "user";
  const live = isLive(reply);
  const sendFailure = sendError ? describeFailure(sendError) : null;

  return (
    <div className={`chat${memoryOpen ? " memory-open" : ""}`}>
      <header className="chat-header">
        <h1 title={session.title}>{session.title}</h1>
        {session.pinned && <span className="chip">Pinned</span>}
        {session.archived && <span className="chip muted-chip">Archived</span>}
        <button
          type="button"
          className="ghost memory-toggle"
          aria-expanded={memoryOpen}
          aria-controls="memory-panel"
          onClick={() => setMemoryOpen((o) => !o)}
        >
          Memory
        </button>
        <Menu.Root modal={false}>
          <Menu.Trigger asChild>
            <button type="button" className="ghost icon" aria-label="Session actions">
              <MoreIcon />
            </button>
          </Menu.Trigger>
          <Menu.Portal>
            <Menu.Content className="menu" align="end" sideOffset={4}>
              <Menu.Item
                className="menu-item"
                onSelect={() =>
                  void act(
                    () => api("PATCH", path, { pinned: !session.pinned }),
                    session.pinned ? "Unpinned" : "Pinned",
                  )
                }
              >
                {session.pinned ? "Unpin" : "Pin"}
              </Menu.Item>
              <Menu.Item
                className="menu-item"
                onSelect={() =>
                  props.prompt({
                    title: "Rename session",
                    label: "Title",
                    initial: session.title,
                    confirmLabel: "Rename",
                    onSubmit: (title) => void act(() => api("PATCH", path, { title }), "Renamed"),
                  })
                }
              >
                Rename…
              </Menu.Item>
              <Menu.Sub>
                <Menu.SubTrigger className="menu-item">Move to project ›</Menu.SubTrigger>
                <Menu.Portal>
                  <Menu.SubContent className="menu" sideOffset={4}>
                    <Menu.RadioGroup
                      value={session.projectId ?? ""}
                      onValueChange={(projectId) =>
                        void act(() => api("PATCH", path, { projectId: projectId || null }), "Moved")
                      }
                    >
                      <Menu.RadioItem className="menu-item" value="">
                        No project
                      </Menu.RadioItem>
                      {props.projects.map((p) => (
                        <Menu.RadioItem key={p.id} className="menu-item" value={p.id}>
                          {p.name}
                        </Menu.RadioItem>
                      ))}
                    </Menu.RadioGroup>
                  </Menu.SubContent>
                </Menu.Portal>
              </Menu.Sub>
              <Menu.Item
                className="menu-item"
                onSelect={() =>
                  void act(
                    () => api("PATCH", path, { archived: !session.archived }),
                    session.archived ? "Unarchived" : "Archived",
                  )
                }
              >
                {session.archived ? "Unarchive" : "Archive"}
              </Menu.Item>
              <Menu.Separator className="menu-separator" />
              <Menu.Item
                className="menu-item"
                disabled={live}
                onSelect={() => void act(() => api("POST", `${path}/undo`, {}), "Last turn undone")}
              >
                Undo last turn
              </Menu.Item>
              <Menu.Item className="menu-item" disabled={live} onSelect={() => void retry()}>
                Retry last turn
              </Menu.Item>
              <Menu.Item
                className="menu-item"
                onSelect={() =>
                  void api<{ session: SessionSummary }>("POST", `${path}/branch`, {}).then(
                    ({ session: child }) => {
                      onChanged();
                      toast.success("Branched into a new session");
                      props.onOpen(child.id);
                    },
                    (error: unknown) => toast.error(describeFailure(error).title),
                  )
                }
              >
                Branch from here
              </Menu.Item>
              <Menu.Separator className="menu-separator" />
              <Menu.Item
                className="menu-item danger-item"
                onSelect={() =>
                  props.confirm({
                    title: "Delete this session?",
                    description: `“${session.title}” and its messages will be deleted. This cannot be undone.`,
                    confirmLabel: "Delete",
                    destructive: true,
                    onConfirm: () =>
                      void api("DELETE", path).then(
                        () => {
                          onChanged();
                          toast.success("Session deleted");
                          props.onOpen(null);
                        },
                        (error: unknown) =>
                          toast.error(describeFailure(error).title, {
                            description: describeFailure(error).hint,
                          }),
                      ),
                  })
                }
              >
                Delete…
              </Menu.Item>
            </Menu.Content>
          </Menu.Portal>
        </Menu.Root>
      </header>
      <div className="chat-body">
        <ol className="transcript" aria-label="Transcript">
          {session.messages.length === 0 && !live && (
            <li className="empty-hint">Say something to start. Enter sends, Shift+Enter adds a line.</li>
          )}
          {session.messages.map((m, i) => (
            <Message
              key={`${m.id}-${m.createdAt}`}
              message={m}
              model={model}
              recalls={i === lastAssistant && reply.phase === "idle" ? lastRecalls : null}
            />
          ))}
          {unanswered && (
            <li className="message marker interrupted-marker" role="note">
              <span>This turn got no reply: it was interrupted (the server stopped or restarted).</span>
              <button type="button" onClick={() => void retry()}>
                Retry
              </button>
            </li>
          )}
          {session.streaming && reply.phase === "idle" && (
            <li className="message assistant" aria-busy="true">
              <TypingIndicator />
            </li>
          )}
          {reply.phase !== "idle" && (
            <LiveReply
              text={reply.text}
              tools={reply.tools}
              phase={reply.phase}
              model={model}
              startedAt={reply.startedAt}
              recalls={reply.recalls}
              failure={reply.failure}
              onRetry={() => void retry()}
            />
          )}
          <li ref={transcriptEnd} aria-hidden="true" className="transcript-end" />
        </ol>
        <MemoryPanelView panel={memory} liveRecalls={reply.recalls} />
      </div>
      {sendFailure && (
        <div role="alert" className={`send-error failure-${sendFailure.kind}`}>
          <strong>{sendFailure.title}</strong> <span>{sendFailure.hint}</span>
          <button type="button" onClick={() => void send()}>
            Try again
          </button>
        </div>
      )}
      <form className="composer" onSubmit={send}>
        <label htmlFor="message" className="visually-hidden">
          Message
        </label>
        <textarea
          id="message"
          ref={composer}
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              void send();
            }
          }}
          placeholder="Message the agent (Enter to send, Shift+Enter for a new line)"
          rows={2}
        />
        {live ? (
          <button
            type="button"
            onClick={() =>
              reply.streamId &&
              void api("POST", "/api/chat/cancel", { streamId: reply.streamId }).catch(() => undefined)
            }
          >
            Stop
          </button>
        ) : (
          <button type="submit" className="primary" disabled={!draft.trim()}>
            Send
          </button>
        )}
      </form>
    </div>
  );
}

function TypingIndicator() {
  return (
    <span className="typing" role="status" aria-label="The agent is typing">
      <span />
      <span />
      <span />
    </span>
  );
}

function LiveReply(props: {
  text: string;
  tools: readonly ToolLine[];
  phase: string;
  model: string | null;
  startedAt: number;
  recalls: readonly Recall[] | null;
  failure: { code: string; message: string; details?: Record<string, unknown> } | null;
  onRetry: () => void;
}) {
  const failure = props.failure ? describeFailure(props.failure) : null;
  const busy = props.phase === "waiting" || props.phase === "streaming";
  return (
    <li
      className={`message assistant live ${props.phase}`}
      aria-live="polite"
      aria-busy={busy}
      data-testid="streaming-reply"
    >
      <span className="visually-hidden">Agent said:</span>
      {props.tools.map((t) => (
        <details key={t.id} className="tool">
          <summary>Tool: {t.name}</summary>
          <pre>{t.args}</pre>
          {t.result !== undefined && <pre>{JSON.stringify(t.result)}</pre>}
        </details>
      ))}
      {(props.text || !busy) && (
        <div className="bubble">
          <Markdown text={props.text} />
        </div>
      )}
      {props.phase === "waiting" && <TypingIndicator />}
      {props.phase === "interrupted" && (
        <div className="marker interrupted-marker" role="note">
          <span>Interrupted: the connection to the server broke before the reply finished.</span>
          <button type="button" onClick={props.onRetry}>
            Retry
          </button>
        </div>
      )}
      {props.phase === "failed" && failure && (
        <div className={`marker failed-marker failure-${failure.kind}`} role="alert">
          <strong>{failure.title}</strong>
          <span>{failure.hint}</span>
          <button type="button" onClick={props.onRetry}>
            Retry
          </button>
        </div>
      )}
      <MessageMeta at={props.startedAt} model={props.model} />
      {props.recalls && props.recalls.length > 0 && <RecallDetails recalls={props.recalls} />}
    </li>
  );
}
