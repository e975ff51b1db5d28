// @vitest-environment happy-dom
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { Markdown as LazyMarkdown } from "./markdown.js";
import { MarkdownRenderer as Markdown } from "./markdown-renderer.js";

afterEach(cleanup);

describe("message markdown", () => {
  it("renders GFM lists, tables and strikethrough", () => {
    const { container } = render(<Markdown text={"- one\n- ~~two~~\n\n| a | b |\n|---|---|\n| 1 | 2 |"} />);
    expect(container.querySelectorAll("ul > li")).toHaveLength(2);
    expect(container.querySelector("del")?.textContent).toBe("two");
    expect(container.querySelectorAll("td")).toHaveLength(2);
  });

  it("highlights a fenced code block and offers to copy it", () => {
    const { container } = render(<Markdown text={"```js\nconst x = 1;\n```"} />);
    expect(container.querySelector("code.hljs .hljs-keyword")?.textContent).toBe("const");
    expect(screen.getByRole("button", { name: "Copy code" })).toBeTruthy();
    expect(container.querySelector(".code-bar span")?.textContent).toBe("js");
  });

  it("never turns raw HTML or javascript: links into live elements", () => {
    const { container } = render(
      <Markdown
        text={'<img src=x onerror="alert(1)"><script>alert(2)</script>\n\n[click](javascript:alert(3))'}
      />,
    );
    expect(container.querySelector("img, script")).toBeNull();
    const link = container.querySelector("a");
    expect(link?.getAttribute("href") ?? "").not.toMatch(/^javascript:/i);
  });

  it("loads the renderer on demand: plain text first, then the same text as markdown", async () => {
    const { container } = render(<LazyMarkdown text={"**late** bold"} />);
    expect(container.querySelector(".plain")?.textContent).toBe("**late** bold");
    expect(await screen.findByText("late", { selector: "strong" })).toBeTruthy();
    expect(container.querySelector(".plain")).toBeNull();
  });
});
