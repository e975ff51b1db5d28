import { lazy, Suspense } from "react";
import type { MarkdownRenderer } from "./markdown-renderer.js";

type RendererModule = { default: typeof MarkdownRenderer };
let loading: Promise<RendererModule> | undefined;

/**
 * Starts loading the markdown renderer (a chunk of its own: the parser and highlight.js are most of
 * the UI's weight) and resolves once it is there. The app starts it at once, so the first screen
 * does not wait for it and the first reply rarely does.
 */
export function loadMarkdown(): Promise<RendererModule> {
  loading ??= import("./markdown-renderer.js").then((module) => ({ default: module.MarkdownRenderer }));
  return loading;
}

const LazyMarkdown = lazy(loadMarkdown);

/** Message text as markdown; until the renderer has loaded, the same text as plain lines. */
export function Markdown({ text }: { text: string }) {
  return (
    <Suspense
      fallback={
        <div className="markdown">
          <p className="plain">{text}</p>
        </div>
      }
    >
      <LazyMarkdown text={text} />
    </Suspense>
  );
}
