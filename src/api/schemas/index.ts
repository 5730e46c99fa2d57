/**
 * Request and response schemas of every route, one file per area; the OpenAPI document is
 * generated from them, and their `...Json` types are what the dashboard and the tests import
 * (from this index: `src/api/schemas`).
 */
export * from './common.js';
export * from './agents.js';
export * from './runs.js';
export * from './access.js';
export * from './secrets.js';
export * from './webhooks.js';
export * from './session.js';
export * from './schedules.js';
export * from './forecast.js';
export * from './passwords.js';
export * from './budget.js';
export * from './audit.js';
