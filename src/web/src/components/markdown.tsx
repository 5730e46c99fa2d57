import { useEffect, useState } from 'preact/hooks';

/**
 * A run's output as Markdown: `marked` renders it (raw HTML escaped) and DOMPurify removes anything
 * that could still run (javascript: URLs in links, for one). The Content-Security-Policy is the
 * second wall. Both libraries load on first use, so the first page does not wait for them.
 */

type Render = (markdown: string) => string;

let renderer: Promise<Render> | null = null;

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function loadRenderer(): Promise<Render> {
  renderer ??= Promise.all([import('marked'), import('dompurify')]).then(([{ Marked }, { default: DOMPurify }]) => {
    // Raw HTML in an output is shown as the text it is, not interpreted: an agent that writes
    // `<script>` or `<img onerror=...>` shows exactly that.
    const marked = new Marked({ gfm: true, renderer: { html: ({ text }) => escapeHtml(text) } });
    DOMPurify.addHook('afterSanitizeAttributes', (node) => {
      if (node.tagName === 'A' && node.getAttribute('href')) {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer nofollow');
      }
    });
    return (markdown: string) =>
      DOMPurify.sanitize(marked.parse(markdown, { async: false }), {
        USE_PROFILES: { html: true },
        FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object', 'embed'],
        FORBID_ATTR: ['style', 'class', 'id'],
      });
  });
  return renderer;
}

export function Markdown({ text }: { text: string }) {
  const [html, setHtml] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    loadRenderer().then(
      (render) => current && setHtml(render(text)),
      () => current && setHtml(null),
    );
    return () => {
      current = false;
    };
  }, [text]);
  if (html === null) return <pre class="output-raw">{text}</pre>;
  return <div class="markdown" data-testid="run-output" dangerouslySetInnerHTML={{ __html: html }} />;
}
