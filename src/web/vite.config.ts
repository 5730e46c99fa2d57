import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The dashboard: Preact (JSX through Vite's own transform, no Babel), built to dist/web, which
 * the API server serves at `/`. `npm run dev:web` serves it with hot reload and sends /api to a
 * service on 127.0.0.1:3000 (override with CRON_AGENTS_API).
 */
const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // The polyfill would be an inline script, which the Content-Security-Policy refuses.
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    // The server's declarations the dashboard imports are frozen objects: unused ones may go.
    rolldownOptions: { treeshake: { manualPureFunctions: ['Object.freeze'] } },
  },
  server: {
    proxy: { '/api': process.env.CRON_AGENTS_API ?? 'http://127.0.0.1:3000' },
  },
});
