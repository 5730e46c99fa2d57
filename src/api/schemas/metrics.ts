import { Type } from 'typebox';

/** GET /metrics: its 200 answer is text, not JSON; declared by content type so the OpenAPI document says so. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export const MetricsText = {
  description: 'Every metric in the Prometheus text exposition format (version 0.0.4)',
  content: { 'text/plain': { schema: Type.String() } },
};
