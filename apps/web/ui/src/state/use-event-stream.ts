import { useEffect, useRef } from "react";

/**
 * Subscribes to a Server-Sent Events endpoint while `url` is set, calling `handlers[event]` with each
 * event's parsed JSON. `onBroken` runs once when the connection fails: EventSource would silently
 * reconnect, but a chat stream cannot be resumed, so the stream is closed and the caller decides.
 * Handlers are read from a ref, so passing new closures on each render does not reconnect.
 */
export function useEventStream(
  url: string | null,
  handlers: Record<string, (data: unknown) => void>,
  options: { onBroken?: () => void; reconnect?: boolean } = {},
): void {
  const latest = useRef({ handlers, options });
  latest.current = { handlers, options };
  useEffect(() => {
    if (!url) return;
    const source = new EventSource(url);
    for (const name of Object.keys(latest.current.handlers)) {
      source.addEventListener(name, (event) => {
        const raw = (event as MessageEvent).data;
        // EventSource reports transport failures as `error` events without data: not the server's.
        if (name === "error" && typeof raw !== "string") return;
        let data: unknown = raw;
        if (typeof raw === "string") {
          try {
            data = JSON.parse(raw);
          } catch {
            data = raw;
          }
        }
        latest.current.handlers[name]?.(data);
      });
    }
    source.addEventListener("error", (event) => {
      // A server-sent `error` event carries data; a transport failure does not.
      if (typeof (event as MessageEvent).data === "string") return;
      if (latest.current.options.reconnect) return;
      source.close();
      latest.current.options.onBroken?.();
    });
    return () => source.close();
  }, [url]);
}
