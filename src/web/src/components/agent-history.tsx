import { listAgentAudit, listAgentVersions, type AgentVersion, type AuditEntry, type Run } from '../api';
import { longDateTime, shortDateTime } from '../format';
import { useLive } from '../hooks';
import { Link, navigate, useLocation } from '../router';
import { diffLines, withContext } from '../text-diff';
import { Loading, Notice, StatusBadge, TimeAgo } from './bits';
import '../history.css';

/** The agent page's tabs: its overview, and its history (`?tab=history`). */
export function AgentTabs({ path, history }: { path: string; history: boolean }) {
  return (
    <nav class="page-tabs" aria-label="Agent sections">
      <Link href={path} aria-current={history ? undefined : 'page'}>
        Overview
      </Link>
      <Link href={`${path}?tab=history`} aria-current={history ? 'page' : undefined}>
        History
      </Link>
    </nav>
  );
}

/**
 * An agent's History tab: its versions (each change of prompt, schedule or limits makes one), the
 * prompt's diff and the other changed fields between a version and an earlier one, the runs each
 * version ran, and the agent's audit trail. The version shown is in the address (`?version=`).
 */
export function AgentHistory({ agentId, runs, now }: { agentId: string; runs: Run[]; now: number }) {
  const { path, query } = useLocation();
  const live = useLive(() => Promise.all([listAgentVersions(agentId), listAgentAudit(agentId)]), [agentId]);
  if (!live.data) return live.error ? <Notice kind="error">{live.error.message}</Notice> : <Loading />;
  const [versions, audit] = live.data;
  if (versions.length === 0) return <Notice kind="info">This agent has no versions yet.</Notice>;
  const latest = versions[0]!;
  const asked = Number(query.get('version'));
  const shown = versions.find((v) => v.version === asked) ?? latest;
  const against = Number(query.get('against'));
  const older = versions.filter((v) => v.version < shown.version);
  const base = older.find((v) => v.version === against) ?? older[0] ?? null;
  const go = (params: Record<string, number>) => {
    const next = new URLSearchParams(query);
    for (const [key, value] of Object.entries(params)) next.set(key, String(value));
    if (params.version !== undefined) next.delete('against');
    navigate(`${path}?${next.toString()}`, { replace: true });
  };
  return (
    <>
      <div class="section-header">
        <h2>Versions</h2>
        <span class="muted small">A new version with each change of the prompt, schedule, limits or tools</span>
      </div>
      <div class="history-layout">
        <ol class="card version-list" aria-label="Versions">
          {versions.map((version, index) => (
            <VersionItem
              key={version.version}
              version={version}
              previous={versions[index + 1] ?? null}
              current={version === latest}
              selected={version === shown}
              runs={runs.filter((run) => run.agentVersion === version.version).length}
              now={now}
              onSelect={() => go({ version: version.version })}
            />
          ))}
        </ol>
        <VersionDetail version={shown} base={base} older={older} runs={runs} onCompare={(v) => go({ version: shown.version, against: v })} />
      </div>
      <div class="section-header">
        <h2>Activity</h2>
        <span class="muted small">Who changed, ran or stopped this agent · newest first</span>
      </div>
      <AuditList entries={audit.data} now={now} />
    </>
  );
}

interface VersionItemProps {
  version: AgentVersion;
  previous: AgentVersion | null;
  current: boolean;
  selected: boolean;
  runs: number;
  now: number;
  onSelect: () => void;
}

function VersionItem({ version, previous, current, selected, runs, now, onSelect }: VersionItemProps) {
  const changed = previous ? changedFields(previous.fields, version.fields) : [];
  return (
    <li>
      <button type="button" class={selected ? 'version-item selected' : 'version-item'} aria-pressed={selected} data-testid="version-item" onClick={onSelect}>
        <span class="version-title">
          <strong>Version {version.version}</strong>
          {current ? <span class="pill pill-on">Current</span> : null}
        </span>
        <span class="muted small">
          <TimeAgo iso={version.createdAt} now={now} />
          {version.createdBy ? ` by ${version.createdBy.name}` : ''}
        </span>
        <span class="small">{previous ? (changed.length > 0 ? `Changed: ${changed.map(fieldLabel).join(', ')}` : 'No field changed') : 'First version'}</span>
        <span class="muted small">{runs === 1 ? '1 run listed' : `${runs} runs listed`}</span>
      </button>
    </li>
  );
}

interface VersionDetailProps {
  version: AgentVersion;
  base: AgentVersion | null;
  older: AgentVersion[];
  runs: Run[];
  onCompare: (version: number) => void;
}

function VersionDetail({ version, base, older, runs, onCompare }: VersionDetailProps) {
  const others = base ? changedFields(base.fields, version.fields).filter((field) => field !== 'prompt') : [];
  const ran = runs.filter((run) => run.agentVersion === version.version);
  return (
    <section class="card version-detail" aria-label={`Version ${version.version}`} data-testid="version-detail">
      <div class="version-detail-header">
        <h3>Version {version.version}</h3>
        <span class="muted small" title={longDateTime(version.createdAt)}>
          {shortDateTime(version.createdAt)}
          {version.createdBy ? ` · ${version.createdBy.name}` : ''}
        </span>
        {older.length > 0 ? (
          <label class="compare">
            Compared with
            <select value={base?.version} onChange={(event) => onCompare(Number((event.target as HTMLSelectElement).value))}>
              {older.map((v) => (
                <option key={v.version} value={v.version}>
                  version {v.version}
                </option>
              ))}
            </select>
          </label>
        ) : null}
      </div>
      <h4>Prompt</h4>
      {base ? (
        <PromptDiff before={text(base.fields.prompt)} after={text(version.fields.prompt)} />
      ) : (
        <pre class="version-prompt">{text(version.fields.prompt)}</pre>
      )}
      {base ? <OtherChanges fields={others} base={base} version={version} /> : <p class="muted small">The first version: nothing to compare it with.</p>}
      <h4>Runs of this version</h4>
      {ran.length === 0 ? (
        <p class="muted small">None among the runs listed on the agent's page.</p>
      ) : (
        <ul class="version-runs" data-testid="version-runs">
          {ran.map((run) => (
            <li key={run.id}>
              <StatusBadge status={run.status} />
              <Link href={`/runs/${encodeURIComponent(run.id)}`}>{shortDateTime(run.startedAt ?? run.queuedAt)}</Link>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The prompt's lines, removed and added, with a few unchanged lines around each change. */
function PromptDiff({ before, after }: { before: string; after: string }) {
  if (before === after) return <p class="muted small">The prompt did not change.</p>;
  const shown = withContext(diffLines(before, after));
  return (
    <ol class="diff" data-testid="prompt-diff" aria-label="Prompt changes">
      {shown.map((line, index) =>
        line.kind === 'gap' ? (
          <li key={index} class="diff-gap">
            {line.lines === 1 ? '1 unchanged line' : `${line.lines} unchanged lines`}
          </li>
        ) : (
          <li key={index} class={`diff-${line.kind}`}>
            <span class="diff-sign" aria-hidden="true">
              {line.kind === 'added' ? '+' : line.kind === 'removed' ? '−' : ' '}
            </span>
            <span class="sr-only">{line.kind === 'added' ? 'Added: ' : line.kind === 'removed' ? 'Removed: ' : ''}</span>
            <span class="diff-text">{line.text === '' ? ' ' : line.text}</span>
          </li>
        ),
      )}
    </ol>
  );
}

function OtherChanges({ fields, base, version }: { fields: string[]; base: AgentVersion; version: AgentVersion }) {
  if (fields.length === 0) return <p class="muted small">No other field changed since version {base.version}.</p>;
  return (
    <>
      <h4>Other changes</h4>
      <table class="table field-changes" aria-label={`Other changes since version ${base.version}`}>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Version {base.version}</th>
            <th scope="col">Version {version.version}</th>
          </tr>
        </thead>
        <tbody>
          {fields.map((field) => (
            <tr key={field}>
              <th scope="row">{fieldLabel(field)}</th>
              <td>
                <code>{show(base.fields[field])}</code>
              </td>
              <td>
                <code>{show(version.fields[field])}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function AuditList({ entries, now }: { entries: AuditEntry[]; now: number }) {
  if (entries.length === 0) return <p class="card empty-state muted">Nothing recorded yet.</p>;
  return (
    <ol class="card audit-list" aria-label="Activity">
      {entries.map((entry) => (
        <li key={entry.id} data-testid="audit-entry" data-action={entry.action}>
          <span class="audit-who">{who(entry)}</span> <span>{what(entry)}</span>
          <span class="muted small">
            {' · '}
            <TimeAgo iso={entry.at} now={now} />
            {entry.actor.address ? ` · from ${entry.actor.address}` : ''}
          </span>
        </li>
      ))}
    </ol>
  );
}

const LABELS: Record<string, string> = {
  prompt: 'Prompt',
  schedule: 'Schedule',
  timezone: 'Timezone',
  maxTurns: 'Max turns',
  maxBudgetUsd: 'Budget per run',
  model: 'Model',
  allowedTools: 'Allowed tools',
  systemPrompt: 'System prompt',
  mcpServers: 'MCP servers',
  allowedDomains: 'Allowed domains',
  outputSchema: 'Output schema',
  enabled: 'Enabled',
};

/** A field's name in words; fields added later read from their camelCase name. */
function fieldLabel(field: string): string {
  const label = LABELS[field];
  if (label) return label;
  const words = field.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The fields whose values differ, in the order the newer version lists them. */
function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(after), ...Object.keys(before)])];
  return keys.filter((key) => JSON.stringify(before[key] ?? null) !== JSON.stringify(after[key] ?? null));
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

function show(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.length === 0 ? 'none' : value.join(', ');
  return JSON.stringify(value);
}

function who(entry: AuditEntry): string {
  if (entry.actor.name) return entry.actor.name;
  if (entry.actor.credential === 'cli') return 'The operator (CLI)';
  if (entry.actor.credential === 'system') return 'The service';
  return 'Someone';
}

function what(entry: AuditEntry): string {
  const { details } = entry;
  const version = typeof details.version === 'number' ? ` (version ${details.version})` : '';
  const changes = typeof details.changes === 'object' && details.changes !== null ? Object.keys(details.changes) : [];
  switch (entry.action) {
    case 'agent.create':
      return `created the agent${version}`;
    case 'agent.update':
      return `changed ${changes.map((field) => fieldLabel(field).toLowerCase()).join(', ')}${version}`;
    case 'agent.enable':
      return 'enabled it';
    case 'agent.disable':
      return 'disabled it';
    case 'agent.run':
      return 'ran it now';
    case 'agent.cancel':
      return 'cancelled its runs';
    case 'agent.delete':
      return 'deleted it';
    case 'secret.set':
      return `set the secret ${entry.target.name ?? ''}`;
    case 'secret.delete':
      return `deleted the secret ${entry.target.name ?? ''}`;
    default:
      return entry.action;
  }
}
