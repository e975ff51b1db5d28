import type { MessagingSession } from "../api/client.js";

/** Brand-ish colours for the platform badge (a letter on a disc: no emoji font is needed). */
const PLATFORM_COLOURS: Record<string, string> = {
  telegram: "#1c7cb5",
  slack: "#611f69",
  discord: "#4752c4",
  whatsapp: "#127d4a",
  signal: "#2c5fd1",
  matrix: "#1f1f1f",
  email: "#8a4b08",
  sms: "#5b5f66",
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
  /** One or two letters for the badge, and its background colour. */
  readonly icon: string;
  readonly colour: string;
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
  const kind = session.threadId
    ? "Thread"
    : (CHAT_TYPE_LABELS[chatType] ?? (chatType ? titleCase(chatType) : "Chat"));
  const isDm = kind === "DM";
  const name =
    (isDm ? (session.userName ?? session.chatName) : (session.chatName ?? session.userName)) ??
    (isDm ? (session.userId ?? session.chatId) : (session.chatId ?? session.userId)) ??
    session.title;
  return {
    icon: platform.slice(0, 1).toUpperCase() || "?",
    colour: PLATFORM_COLOURS[platform] ?? "#5b5f66",
    platform: titleCase(platform),
    name: name || "Unknown chat",
    kind,
    preview: session.title,
  };
}
