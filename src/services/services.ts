/**
 * src/services: what a request or a CLI command means, used by both api/ and cli.ts.
 *   agents.ts          create, update, delete, run now, cancel (store + engine wake-ups + cancel notify);
 *                      agent-limits.ts: how many agents and how often a member may schedule
 *   runs.ts            one run and its transcript: read, page, download, follow live (run-follow.ts)
 *   access.ts          users, API tokens (the one token issuance), passwords, token authentication
 *   secrets.ts         agents' secrets, write-only, encrypted (secret-key.ts: the key, or its file)
 *   sign-in.ts         dashboard sign-in: rate limit, password check, sessions and their CSRF token
 *   bootstrap-admin.ts the first admin (or the operator's CRON_AGENTS_ADMIN_TOKEN) at start-up
 *   webhooks.ts        webhooks (signing secret encrypted, shown once), test events, the delivery log
 *   audit.ts           the audit trail and agents' versions, read; the entries the others hand the store
 *   budget.ts          the deployment's spend caps (admins); reservations and alerts are the store's
 *   forecast.ts        what an agent's schedule (or the deployment's) will cost, from recent runs
 * Services refuse with domain errors (src/domain/errors.ts); api/ and cli.ts word and present the
 * results. They see the engine only through the small interfaces agents.ts and run-follow.ts
 * declare (the bus of live run events is RunEventFeed); secrets.ts
 * implements the engine's RunSecrets, the executor's one way to an agent's decrypted secrets.
 */
import type { Clock } from '../clock.js';
import type { SecretCipher } from '../domain/secret-cipher.js';
import type { Store } from '../store/store.js';
import { Access } from './access.js';
import { Audit } from './audit.js';
import { Budget } from './budget.js';
import { Agents, type AgentPolicy, type ExecutorSignal, type SchedulerSignal } from './agents.js';
import { Forecasts } from './forecast.js';
import type { RunEventFeed } from './run-follow.js';
import { Runs } from './runs.js';
import { Secrets } from './secrets.js';
import { SignIn } from './sign-in.js';
import { Webhooks, type WebhookPolicy } from './webhooks.js';

export interface ServiceDeps {
  store: Store;
  clock: Clock;
  scheduler: SchedulerSignal;
  /** Null on an instance that does not execute runs. */
  executor: ExecutorSignal | null;
  /** Encrypts and decrypts agents' secrets (the key: secret-key.ts). */
  cipher: SecretCipher;
  /** What agents may be given (host folders, members' grants); default: no host folders, no limit. */
  agentPolicy?: AgentPolicy;
  /** This instance's live run events (the engine's bus), for run streams; none: streams poll the store. */
  runEvents?: RunEventFeed | null;
  /** Where webhooks may point; default: not to loopback, private or metadata addresses. */
  webhookPolicy?: WebhookPolicy;
}

/** Every service, built once from the same parts. */
export interface Services {
  agents: Agents;
  runs: Runs;
  access: Access;
  signIn: SignIn;
  secrets: Secrets;
  webhooks: Webhooks;
  audit: Audit;
  budget: Budget;
  forecasts: Forecasts;
}

export function createServices(deps: ServiceDeps): Services {
  return {
    agents: new Agents(deps),
    runs: new Runs(deps),
    access: new Access(deps),
    signIn: new SignIn(deps),
    secrets: new Secrets(deps),
    webhooks: new Webhooks(deps),
    audit: new Audit(deps),
    budget: new Budget(deps),
    forecasts: new Forecasts(deps),
  };
}
