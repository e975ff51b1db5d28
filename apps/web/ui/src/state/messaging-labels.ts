import type { MessagingSession } from "../api/client.js";

const PLATFORM_ICONS: Record<string, string> = {
  telegram: "✈️",
  slack: "#️⃣",
  discord: "🎮",
  whatsapp: "🟢",
  signal: "🔵",
  matrix: "🟪",
  email: "✉️",
  sms: "📱",
  api: "🔌",
};

const CHAT_TYPE_LABELS: Record<string, string> = {
  dm: "DM",
  direct: "DM",
  private: "DM",
  group: "Group",
  supergroup: "Group",
  channel: "Channel",
  thread: "Thread",
};

export interface MessagingLabel {
  readonly icon: string;
  readonly platform: string;
  /** The person (DM) or chat (group, channel) the session is with. */
  readonly name: string;
  /** `DM`, `Group`, `Thread`, `Channel`... */
  readonly kind: string;
  readonly preview: string;
}

function titleCase(word: string): string {
  return word ? word[0]!.toUpperCase() + word.slice(1) : word;
}

/** What the sidebar and the header say about a messaging session. */
export function describeMessagingSession(session: MessagingSession): MessagingLabel {
  const platform = session.platform.toLowerCase();
  const chatType = (session.chatType ?? "").toLowerCase();
  const kind = session.threadId ? "Thread" : (CHAT_TYPE_LABELS[chatType] ?? (chatType ? titleCase(chatType) : "Chat"));
  const isDm = kind === "DM";
  const name =
    (isDm ? (session.userName ?? session.chatName) : (session.chatName ?? session.userName)) ??
    (isDm ? (session.userId ?? session.chatId) : (session.chatId ?? session.userId)) ??
    session.title;
  return {
    icon: PLATFORM_ICONS[platform] ?? "💬",
    platform: titleCase(platform),
    name: name || "Unknown chat",
    kind,
    preview: session.title,
  };
}
