/**
 * Starts the fake Anthropic Messages API for manual use:
 *
 *   FAKE_ANTHROPIC_PORT=8787 node dist/test/fake-anthropic/main.js   (after `npm run build`), or
 *   npx vite-node test/fake-anthropic/main.ts                         (if vite-node is available)
 *
 * then run the service or `claude` with ANTHROPIC_BASE_URL=<printed url> ANTHROPIC_API_KEY=anything.
 * Set FAKE_ANTHROPIC_QUIET=1 to stop logging requests; FAKE_ANTHROPIC_DEFAULT to a directive body
 * (e.g. `tool_turns=1 text="hi"`) to change the script of prompts without a directive.
 */
import { startFakeAnthropic } from './fake-anthropic-server.js';

const port = process.env.FAKE_ANTHROPIC_PORT ? Number(process.env.FAKE_ANTHROPIC_PORT) : 0;
const quiet = process.env.FAKE_ANTHROPIC_QUIET === '1';
const fake = await startFakeAnthropic({
  port,
  keepRequests: 1000,
  log: quiet ? undefined : (line) => console.error(`[fake-anthropic] ${line}`),
});
if (process.env.FAKE_ANTHROPIC_DEFAULT) fake.setDefaultScript(process.env.FAKE_ANTHROPIC_DEFAULT);
console.log(fake.url);

const stop = (): void => {
  void fake.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
