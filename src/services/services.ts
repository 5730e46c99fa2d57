/**
 * src/services: what a request or a CLI command means, used by both api/ and cli.ts.
 *   agents.ts          create, update, delete, run now, cancel (store + engine wake-ups + cancel notify)
 *   access.ts          users, API tokens (the one token issuance), passwords, token authentication
 *   sign-in.ts         dashboard sign-in: rate limit, password check, sessions and their CSRF token
 *   bootstrap-admin.ts the first admin (or the operator's CRON_AGENTS_ADMIN_TOKEN) at start-up
 * Services refuse with domain errors (src/domain/errors.ts); api/ and cli.ts word and present the
 * results. They see the engine only through the small interfaces agents.ts declares.
 */
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import { Access } from './access.js';
import { Agents, type ExecutorSignal, type SchedulerSignal } from './agents.js';
import { SignIn } from './sign-in.js';

export interface ServiceDeps {
  store: Store;
  clock: Clock;
  scheduler: SchedulerSignal;
  /** Null on an instance that does not execute runs. */
  executor: ExecutorSignal | null;
}

/** Every service, built once from the same parts. */
export interface Services {
  agents: Agents;
  access: Access;
  signIn: SignIn;
}

export function createServices(deps: ServiceDeps): Services {
  return { agents: new Agents(deps), access: new Access(deps), signIn: new SignIn(deps) };
}
