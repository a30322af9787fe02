/** The dismissible notes over the scene (#notes): one per key, info, warning or error, redrawn on every change. */

export type NoteKind = 'info' | 'warn' | 'error';

export class Notes {
  private readonly notes = new Map<string, { kind: NoteKind; text: string }>();

  constructor(private readonly el: HTMLElement) {}

  /** Shows `text` under `key` (replacing that key's note), or removes the key's note when text is null. */
  set(key: string, kind: NoteKind, text: string | null): void {
    if (text === null) this.notes.delete(key);
    else this.notes.set(key, { kind, text });
    this.el.replaceChildren(...[...this.notes.entries()].map(([k, n]) => {
      const d = document.createElement('div');
      d.className = `note ${n.kind}`;
      d.textContent = n.text;
      const close = document.createElement('button');
      close.type = 'button';
      close.className = 'dismiss';
      close.title = 'dismiss';
      close.textContent = '×';
      close.addEventListener('click', () => this.set(k, n.kind, null));
      d.append(close);
      return d;
    }));
  }

  /** The texts shown, in the order their keys were first set. */
  texts(): string[] {
    return [...this.notes.values()].map((n) => n.text);
  }
}
