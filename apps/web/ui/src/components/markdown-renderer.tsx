import { type ComponentProps, isValidElement, type ReactNode, useState } from "react";
import ReactMarkdown from "react-markdown";
import rehypeHighlight from "rehype-highlight";
import remarkGfm from "remark-gfm";

/**
 * GitHub-flavoured markdown for message text, with highlighted code. The heavy part of the UI (parser,
 * highlight.js): the app loads it on demand through `Markdown` (`markdown.tsx`). Raw HTML in the text is never executed: react-markdown
 * builds React elements from the markdown tree and, without a raw-HTML plugin, leaves HTML out;
 * its default URL transform drops `javascript:` and other unsafe link targets.
 */
export function MarkdownRenderer({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown
        remarkPlugins={[remarkGfm]}
        rehypePlugins={[[rehypeHighlight, { detect: false, ignoreMissing: true }]]}
        components={{ pre: CodeBlock, a: ExternalLink, table: ScrollTable }}
      >
        {text}
      </ReactMarkdown>
    </div>
  );
}

function ExternalLink(props: ComponentProps<"a"> & { node?: unknown }) {
  const { node: _node, ...rest } = props;
  return <a {...rest} target="_blank" rel="noopener noreferrer" />;
}

function ScrollTable(props: ComponentProps<"table"> & { node?: unknown }) {
  const { node: _node, ...rest } = props;
  return (
    <div className="table-scroll">
      <table {...rest} />
    </div>
  );
}

function textOf(node: ReactNode): string {
  if (typeof node === "string" || typeof node === "number") return String(node);
  if (Array.isArray(node)) return node.map(textOf).join("");
  if (isValidElement<{ children?: ReactNode }>(node)) return textOf(node.props.children);
  return "";
}

function CodeBlock(props: ComponentProps<"pre"> & { node?: unknown }) {
  const { node: _node, children, ...rest } = props;
  const [copied, setCopied] = useState(false);
  const code = textOf(children).replace(/\n$/, "");
  const language = isValidElement<{ className?: string }>(children)
    ? /language-([\w+-]+)/.exec(children.props.className ?? "")?.[1]
    : undefined;
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(code);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div className="code-block">
      <div className="code-bar">
        <span>{language ?? "text"}</span>
        <button type="button" className="ghost small" onClick={() => void copy()} aria-label="Copy code">
          {copied ? "Copied" : "Copy"}
        </button>
      </div>
      <pre {...rest}>{children}</pre>
    </div>
  );
}
