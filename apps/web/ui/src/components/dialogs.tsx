import * as Dialog from "@radix-ui/react-dialog";
import { type FormEvent, type ReactNode, useEffect, useState } from "react";

/**
 * In-app dialogs in place of the browser's prompt()/confirm(): Radix traps focus inside, closes on
 * Escape and returns focus to what opened it.
 */
function Frame(props: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  children: ReactNode;
  description?: string;
}) {
  return (
    <Dialog.Root open={props.open} onOpenChange={props.onOpenChange}>
      <Dialog.Portal>
        <Dialog.Overlay className="dialog-overlay" />
        <Dialog.Content
          className="dialog"
          aria-describedby={props.description ? "dialog-description" : undefined}
        >
          <Dialog.Title className="dialog-title">{props.title}</Dialog.Title>
          {props.description && (
            <Dialog.Description id="dialog-description" className="dialog-description">
              {props.description}
            </Dialog.Description>
          )}
          {props.children}
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

export interface PromptRequest {
  title: string;
  label: string;
  initial?: string;
  confirmLabel: string;
  onSubmit: (value: string) => void;
}

export function PromptDialog({ request, onClose }: { request: PromptRequest | null; onClose: () => void }) {
  const [value, setValue] = useState("");
  useEffect(() => setValue(request?.initial ?? ""), [request]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = value.trim();
    if (!trimmed || !request) return;
    request.onSubmit(trimmed);
    onClose();
  };
  return (
    <Frame open={request !== null} onOpenChange={(open) => !open && onClose()} title={request?.title ?? ""}>
      <form onSubmit={submit} className="dialog-form">
        <label htmlFor="prompt-value">{request?.label}</label>
        <input
          id="prompt-value"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          autoComplete="off"
        />
        <div className="dialog-actions">
          <Dialog.Close asChild>
            <button type="button">Cancel</button>
          </Dialog.Close>
          <button type="submit" className="primary" disabled={!value.trim()}>
            {request?.confirmLabel}
          </button>
        </div>
      </form>
    </Frame>
  );
}

export interface ConfirmRequest {
  title: string;
  description: string;
  confirmLabel: string;
  destructive?: boolean;
  onConfirm: () => void;
}

export function ConfirmDialog({ request, onClose }: { request: ConfirmRequest | null; onClose: () => void }) {
  return (
    <Frame
      open={request !== null}
      onOpenChange={(open) => !open && onClose()}
      title={request?.title ?? ""}
      description={request?.description ?? ""}
    >
      <div className="dialog-actions">
        <Dialog.Close asChild>
          <button type="button">Cancel</button>
        </Dialog.Close>
        <button
          type="button"
          className={request?.destructive ? "danger" : "primary"}
          onClick={() => {
            request?.onConfirm();
            onClose();
          }}
        >
          {request?.confirmLabel}
        </button>
      </div>
    </Frame>
  );
}
