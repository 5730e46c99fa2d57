import fs from 'node:fs';

/**
 * The package's version, read once from its package.json (one folder up from src/ and from
 * dist/ alike), so `cron-agents --version` and the OpenAPI document never disagree with npm.
 */
export const VERSION: string = (JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
