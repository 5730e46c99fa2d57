import { budgetAlertText, isBudgetAlertData, type BudgetAlertData } from './budgets.js';
import type { OutboxEvent, RunSnapshot } from './webhook-events.js';

/**
 * An event as a Slack incoming-webhook message (https://api.slack.com/messaging/webhooks): `text`,
 * the notification's fallback, and Block Kit `blocks` with the agent, the status, the cost, the
 * duration, the output's first lines and a link. Text is escaped as Slack's mrkdwn wants (&, <, >)
 * and kept within Block Kit's limits (a section's text 3,000 characters, a field's 2,000).
 */

export interface SlackText {
  type: 'mrkdwn' | 'plain_text';
  text: string;
}

export type SlackBlock =
  | { type: 'section'; text: SlackText; fields?: SlackText[] }
  | { type: 'actions'; elements: { type: 'button'; text: SlackText; url: string }[] }
  | { type: 'context'; elements: SlackText[] };

export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

/** Lines and characters of a run's output the message shows. */
export const SLACK_OUTPUT_LINES = 10;
const SLACK_OUTPUT_CHARS = 1_500;
const SECTION_CHARS = 3_000;

/** Escapes text for Slack's mrkdwn. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const clip = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

const HEADLINES: Record<string, string> = {
  'run.succeeded': ':white_check_mark: succeeded',
  'run.failed': ':x: failed',
  'run.cancelled': ':no_entry_sign: was cancelled',
  'agent.recovered': ':large_green_circle: recovered (its first success after failures)',
  'run.skipped': ':fast_forward: skipped a slot',
};

function duration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** The output's first lines, as a code block, or null when there is none. */
function outputPreview(run: RunSnapshot): string | null {
  const output = run.output?.trim();
  if (!output) return null;
  const lines = output.split('\n');
  let shown = clip(lines.slice(0, SLACK_OUTPUT_LINES).join('\n'), SLACK_OUTPUT_CHARS);
  if (lines.length > SLACK_OUTPUT_LINES || run.outputTruncated) shown += '\n…';
  return '```' + slackEscape(shown).replace(/```/g, "'''") + '```';
}

function runMessage(event: OutboxEvent, run: RunSnapshot, link: string): SlackMessage {
  const agentName = event.data.agent?.name ?? run.agentId;
  const what = run.status === 'budget_exceeded' ? ':money_with_wings: stopped at its budget' : (HEADLINES[event.type] ?? event.type);
  const headline = `*<${link}|${slackEscape(clip(agentName, 200))}>* ${what}`;
  const cost = `$${run.costUsd.toFixed(4)}`;
  const blocks: SlackBlock[] = [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: headline },
      fields: [
        { type: 'mrkdwn', text: `*Agent*\n${slackEscape(clip(agentName, 1_000))}` },
        { type: 'mrkdwn', text: `*Status*\n${run.status}` },
        { type: 'mrkdwn', text: `*Cost*\n${cost}` },
        { type: 'mrkdwn', text: `*Duration*\n${duration(run.durationMs)}` },
      ],
    },
  ];
  const preview = outputPreview(run);
  if (preview) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(preview, SECTION_CHARS) } });
  blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open the run' }, url: link }] });
  const plainWhat = what.replace(/^:[a-z_]+: /, '');
  return { text: `${clip(agentName, 200)} ${plainWhat} (${run.status}, ${cost}, ${duration(run.durationMs)})`, blocks };
}

/** A budget alert: one line saying which cap, how much of it is spent, and a link. */
function budgetMessage(type: 'budget.warning' | 'budget.exhausted', data: BudgetAlertData, link: string): SlackMessage {
  const text = budgetAlertText(type, data);
  const icon = type === 'budget.exhausted' ? ':money_with_wings:' : ':warning:';
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${icon} ${slackEscape(clip(text, SECTION_CHARS - 20))}` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `<${link}|Open cron-agents>` }] },
    ],
  };
}

/** `agent.paused`: the agent's name, why it was paused, and a link to it. */
function pausedMessage(event: OutboxEvent, link: string): SlackMessage {
  const agentName = event.data.agent?.name ?? event.agentId ?? 'an agent';
  const reason = typeof event.data.pausedReason === 'string' ? event.data.pausedReason : 'it failed too often';
  const text = `${clip(agentName, 200)} was paused: ${reason}`;
  return {
    text,
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `:double_vertical_bar: *<${link}|${slackEscape(clip(agentName, 200))}>* was paused\n${slackEscape(clip(reason, 1_000))}`,
        },
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'Enable it again to resume its schedule.' }] },
    ],
  };
}

/** The Slack message for an event; `link` is the dashboard page it is about. */
export function slackMessage(event: OutboxEvent, link: string): SlackMessage {
  const run = event.data.run;
  if (run) return runMessage(event, run, link);
  if (event.type === 'agent.paused') return pausedMessage(event, link);
  const budgetType = event.type === 'budget.warning' || event.type === 'budget.exhausted' ? event.type : null;
  if (budgetType && isBudgetAlertData(event.data)) return budgetMessage(budgetType, event.data, link);
  const text = event.type === 'webhook.test' ? 'A test notification from cron-agents: this webhook works.' : `cron-agents: ${event.type}`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: slackEscape(text) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `<${link}|Open cron-agents>` }] },
    ],
  };
}
