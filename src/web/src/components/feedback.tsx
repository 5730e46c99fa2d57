import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { AlertIcon, CheckIcon, XIcon } from './icons';

/** Toasts (announced politely) and a confirmation dialog on the native <dialog>. */

interface Toast {
  id: number;
  kind: 'success' | 'error';
  text: string;
}

let pushToast: (toast: Omit<Toast, 'id'>) => void = () => {};
let toastId = 0;

export function toast(kind: Toast['kind'], text: string): void {
  pushToast({ kind, text });
}

export function Toasts() {
  const [toasts, setToasts] = useState<Toast[]>([]);
  useEffect(() => {
    pushToast = (t) => {
      const id = ++toastId;
      setToasts((list) => [...list.slice(-3), { ...t, id }]);
      setTimeout(() => setToasts((list) => list.filter((x) => x.id !== id)), t.kind === 'error' ? 8000 : 4000);
    };
    return () => {
      pushToast = () => {};
    };
  }, []);
  return (
    <div class="toasts" role="status" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} class={`toast toast-${t.kind}`}>
          {t.kind === 'success' ? <CheckIcon /> : <AlertIcon />}
          <span>{t.text}</span>
          <button type="button" class="icon-button" aria-label="Dismiss" onClick={() => setToasts((list) => list.filter((x) => x.id !== t.id))}>
            <XIcon />
          </button>
        </div>
      ))}
    </div>
  );
}

/**
 * A modal confirmation. The native dialog traps focus, closes on Escape and returns focus to
 * the button that opened it.
 */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  // Several dialogs may sit closed on one page: each is named by its own title.
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  return (
    <dialog ref={ref} class="dialog" aria-labelledby={titleId} onClose={props.onClose} onCancel={props.onClose}>
      <h2 id={titleId}>{props.title}</h2>
      <div class="dialog-body">{props.children}</div>
      <div class="dialog-actions">
        <button type="button" class="button" onClick={props.onClose} autoFocus>
          Cancel
        </button>
        <button type="button" class={`button ${props.danger ? 'button-danger' : 'button-primary'}`} disabled={props.busy} onClick={props.onConfirm}>
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
