// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConfirmDialog, PromptDialog } from "./dialogs.js";

afterEach(cleanup);

describe("in-app dialogs", () => {
  it("asks for a value, starts from the initial one, and submits it trimmed", () => {
    const onSubmit = vi.fn();
    const onClose = vi.fn();
    render(
      <PromptDialog
        request={{
          title: "Rename session",
          label: "Title",
          initial: "Old",
          confirmLabel: "Rename",
          onSubmit,
        }}
        onClose={onClose}
      />,
    );
    const input = screen.getByLabelText("Title") as HTMLInputElement;
    expect(input.value).toBe("Old");
    fireEvent.change(input, { target: { value: "  New name " } });
    fireEvent.click(screen.getByRole("button", { name: "Rename" }));
    expect(onSubmit).toHaveBeenCalledWith("New name");
    expect(onClose).toHaveBeenCalled();
  });

  it("closes on Escape without confirming", () => {
    const onConfirm = vi.fn();
    const onClose = vi.fn();
    render(
      <ConfirmDialog
        request={{
          title: "Delete this session?",
          description: "Gone for good.",
          confirmLabel: "Delete",
          onConfirm,
        }}
        onClose={onClose}
      />,
    );
    expect(screen.getByRole("dialog", { name: "Delete this session?" })).toBeTruthy();
    fireEvent.keyDown(document.activeElement ?? document.body, { key: "Escape" });
    expect(onClose).toHaveBeenCalled();
    expect(onConfirm).not.toHaveBeenCalled();
  });
});
