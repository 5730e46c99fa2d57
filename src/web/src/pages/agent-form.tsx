import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, createAgent, getAgent, previewSchedule, updateAgent, type Agent, type AgentInput, type SchedulePreview } from '../api';
import { useCanWrite } from '../app';
import { Loading, Notice } from '../components/bits';
import { toast } from '../components/feedback';
import { ChevronIcon } from '../components/icons';
import { inTimezone } from '../format';
import { useTitle } from '../hooks';
import { Link, navigate } from '../router';
import {
  DEFAULT_PRESET,
  PRESET_LABELS,
  WEEKDAYS,
  browserTimezone,
  hasSeconds,
  presetExpression,
  presetOf,
  timezones,
  type PresetKind,
  type SchedulePreset,
} from '../schedule';

/** The fields as typed (numbers too: an empty budget means "no limit"). */
interface FormState {
  name: string;
  description: string;
  prompt: string;
  preset: SchedulePreset;
  timezone: string;
  maxTurns: string;
  maxBudgetUsd: string;
  model: string;
  allowedTools: string;
  enabled: boolean;
}

type FieldName = 'name' | 'description' | 'prompt' | 'schedule' | 'timezone' | 'maxTurns' | 'maxBudgetUsd' | 'model' | 'allowedTools' | 'enabled';
const FIELDS: FieldName[] = ['name', 'description', 'prompt', 'schedule', 'timezone', 'maxTurns', 'maxBudgetUsd', 'model', 'allowedTools', 'enabled'];
const FIELD_LABELS: Record<FieldName, string> = {
  name: 'Name',
  description: 'Description',
  prompt: 'Prompt',
  schedule: 'Schedule',
  timezone: 'Timezone',
  maxTurns: 'Max turns',
  maxBudgetUsd: 'Budget per run',
  model: 'Model',
  allowedTools: 'Allowed tools',
  enabled: 'Enabled',
};
/** The element each field's error points to. */
const FIELD_INPUT: Record<FieldName, string> = {
  name: 'agent-name',
  description: 'agent-description',
  prompt: 'agent-prompt',
  schedule: 'schedule-kind',
  timezone: 'agent-timezone',
  maxTurns: 'agent-max-turns',
  maxBudgetUsd: 'agent-budget',
  model: 'agent-model',
  allowedTools: 'agent-tools',
  enabled: 'agent-enabled',
};

const MODELS = ['claude-sonnet-4-5', 'claude-opus-4-1', 'claude-haiku-4-5'];

function initialState(agent: Agent | null): FormState {
  if (!agent) {
    return {
      name: '',
      description: '',
      prompt: '',
      preset: DEFAULT_PRESET,
      timezone: browserTimezone(),
      maxTurns: '50',
      maxBudgetUsd: '',
      model: '',
      allowedTools: '',
      enabled: true,
    };
  }
  return {
    name: agent.name,
    description: agent.description ?? '',
    prompt: agent.prompt,
    preset: presetOf(agent.schedule),
    timezone: agent.timezone,
    maxTurns: String(agent.maxTurns),
    maxBudgetUsd: agent.maxBudgetUsd === null ? '' : String(agent.maxBudgetUsd),
    model: agent.model ?? '',
    allowedTools: agent.allowedTools.join('\n'),
    enabled: agent.enabled,
  };
}

/** The request body, or the problems found before asking the server. */
function toInput(form: FormState): { input: AgentInput; problems: Partial<Record<FieldName, string>> } {
  const problems: Partial<Record<FieldName, string>> = {};
  const maxTurns = Number(form.maxTurns);
  if (form.maxTurns.trim() === '' || !Number.isInteger(maxTurns)) problems.maxTurns = 'Enter a whole number of turns.';
  const budgetText = form.maxBudgetUsd.trim();
  const budget = budgetText === '' ? null : Number(budgetText);
  if (budget !== null && !Number.isFinite(budget)) problems.maxBudgetUsd = 'Enter an amount in dollars, or leave it empty for no limit.';
  return {
    input: {
      name: form.name.trim(),
      description: form.description.trim() === '' ? null : form.description,
      prompt: form.prompt,
      schedule: presetExpression(form.preset),
      timezone: form.timezone.trim(),
      maxTurns,
      maxBudgetUsd: budget,
      model: form.model.trim() === '' ? null : form.model.trim(),
      allowedTools: form.allowedTools
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== ''),
      enabled: form.enabled,
    },
    problems,
  };
}

/** Only what changed, so an edit does not overwrite what someone else changed meanwhile. */
function changes(agent: Agent, input: AgentInput): Partial<AgentInput> {
  const patch: Partial<AgentInput> = {};
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  for (const key of Object.keys(input) as (keyof AgentInput)[]) {
    if (!same(agent[key], input[key])) (patch as Record<string, unknown>)[key] = input[key];
  }
  return patch;
}

/** "allowedTools[2]" → "allowedTools"; anything unknown belongs to the form as a whole. */
function fieldOf(path: string): FieldName | null {
  const head = path.replace(/^body\.?/, '').split(/[.[]/)[0] as FieldName;
  return FIELDS.includes(head) ? head : null;
}

export function AgentFormPage({ agentId }: { agentId: string | null }) {
  const canWrite = useCanWrite();
  const [agent, setAgent] = useState<Agent | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  useTitle(agentId ? (agent ? `Edit ${agent.name}` : 'Edit agent') : 'New agent');

  useEffect(() => {
    if (!agentId) return;
    getAgent(agentId).then(setAgent, (error: unknown) => setLoadError(error instanceof ApiError ? error : new ApiError(0, 'client', String(error))));
  }, [agentId]);

  const heading = agentId ? `Edit ${agent?.name ?? 'agent'}` : 'New agent';
  if (!canWrite) {
    return (
      <>
        <h1 tabIndex={-1}>{heading}</h1>
        <Notice kind="info">Your role (viewer) can see agents but not create or change them.</Notice>
      </>
    );
  }
  if (agentId && !agent) {
    return (
      <>
        <h1 tabIndex={-1}>{heading}</h1>
        {loadError ? <Notice kind="error">{loadError.status === 404 ? 'This agent does not exist (any more).' : loadError.message}</Notice> : <Loading />}
      </>
    );
  }
  return <AgentForm agent={agent} heading={heading} />;
}

function AgentForm({ agent, heading }: { agent: Agent | null; heading: string }) {
  const [form, setForm] = useState<FormState>(() => initialState(agent));
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const summaryRef = useRef<HTMLDivElement>(null);
  const zones = useMemo(timezones, []);
  const expression = presetExpression(form.preset);
  const preview = useSchedulePreview(expression, form.timezone);

  const set = <K extends keyof FormState>(key: K, value: FormState[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    const field = (key === 'preset' ? 'schedule' : key) as FieldName;
    if (errors[field]) setErrors((e) => ({ ...e, [field]: undefined }));
  };
  const setPreset = (patch: Partial<SchedulePreset>) => {
    const next = { ...form.preset, ...patch };
    // Switching to "custom" starts from the expression the preset stood for.
    if (patch.kind === 'custom' && form.preset.kind !== 'custom') next.custom = presetExpression(form.preset);
    set('preset', next);
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    const { input, problems } = toInput(form);
    setFormError(null);
    if (Object.keys(problems).length > 0) {
      setErrors(problems);
      requestAnimationFrame(() => summaryRef.current?.focus());
      return;
    }
    setSaving(true);
    try {
      if (agent) {
        const patch = changes(agent, input);
        if (Object.keys(patch).length === 0) {
          toast('success', 'Nothing changed');
          navigate(`/agents/${agent.id}`);
          return;
        }
        await updateAgent(agent.id, patch);
        toast('success', `Saved ${input.name}`);
        navigate(`/agents/${agent.id}`);
      } else {
        const created = await createAgent(input);
        toast('success', `Created ${created.name}`);
        navigate(`/agents/${created.id}`);
      }
    } catch (error) {
      if (error instanceof ApiError && error.details.length > 0) {
        const byField: Partial<Record<FieldName, string>> = {};
        const rest: string[] = [];
        for (const detail of error.details) {
          const field = fieldOf(detail.field);
          if (field && !byField[field]) byField[field] = sentence(detail.message);
          else if (!field) rest.push(`${detail.field} ${detail.message}`);
        }
        setErrors(byField);
        setFormError(rest.length > 0 ? rest.join('; ') : null);
      } else {
        setErrors({});
        setFormError(error instanceof Error ? error.message : String(error));
      }
      requestAnimationFrame(() => summaryRef.current?.focus());
    } finally {
      setSaving(false);
    }
  };

  const problemList = FIELDS.filter((f) => errors[f]);
  const describedBy = (field: FieldName, hint?: string) => [errors[field] ? `${FIELD_INPUT[field]}-error` : null, hint].filter(Boolean).join(' ') || undefined;

  return (
    <>
      <nav aria-label="Breadcrumb" class="breadcrumb">
        <Link href="/agents">Agents</Link>
        <ChevronIcon />
        {agent ? (
          <>
            <Link href={`/agents/${agent.id}`}>{agent.name}</Link>
            <ChevronIcon />
            <span aria-current="page">Edit</span>
          </>
        ) : (
          <span aria-current="page">New agent</span>
        )}
      </nav>
      <div class="page-header">
        <h1 tabIndex={-1}>{heading}</h1>
      </div>
      <form class="form agent-form" onSubmit={submit} noValidate>
        {problemList.length > 0 || formError ? (
          <div class="notice notice-error" role="alert" tabIndex={-1} ref={summaryRef} data-testid="form-errors">
            <div>
              <strong>The agent was not saved.</strong>
              {formError ? <p>{formError}</p> : null}
              {problemList.length > 0 ? (
                <ul>
                  {problemList.map((f) => (
                    <li key={f}>
                      <a href={`#${FIELD_INPUT[f]}`}>{FIELD_LABELS[f]}</a>: {errors[f]}
                    </li>
                  ))}
                </ul>
              ) : null}
            </div>
          </div>
        ) : null}

        <section class="card form-section">
          <h2>About</h2>
          <Field id="agent-name" label="Name" error={errors.name} required>
            <input id="agent-name" aria-required="true" value={form.name} onInput={(e) => set('name', e.currentTarget.value)} maxLength={200} aria-invalid={errors.name ? true : undefined} aria-describedby={describedBy('name')} />
          </Field>
          <Field id="agent-description" label="Description" error={errors.description} hint="What the agent does, for the people who read the list.">
            <input
              id="agent-description"
              value={form.description}
              onInput={(e) => set('description', e.currentTarget.value)}
              maxLength={2000}
              aria-invalid={errors.description ? true : undefined}
              aria-describedby={describedBy('description', 'agent-description-hint')}
            />
          </Field>
          <Field id="agent-prompt" label="Prompt" error={errors.prompt} required hint="Sent to Claude on every run. Markdown is fine.">
            <textarea
              id="agent-prompt"
              aria-required="true"
              class="prompt-input"
              rows={12}
              value={form.prompt}
              onInput={(e) => set('prompt', e.currentTarget.value)}
              aria-invalid={errors.prompt ? true : undefined}
              aria-describedby={describedBy('prompt', 'agent-prompt-hint')}
              spellcheck
            />
          </Field>
        </section>

        <section class="card form-section">
          <h2>Schedule</h2>
          <div class="form-row">
            <Field id="schedule-kind" label="Repeats" error={errors.schedule}>
              <select id="schedule-kind" value={form.preset.kind} onChange={(e) => setPreset({ kind: e.currentTarget.value as PresetKind })} aria-describedby={describedBy('schedule')}>
                {(Object.keys(PRESET_LABELS) as PresetKind[]).map((kind) => (
                  <option key={kind} value={kind}>
                    {PRESET_LABELS[kind]}
                  </option>
                ))}
              </select>
            </Field>
            {form.preset.kind === 'hourly' ? (
              <Field id="schedule-minute" label="At minute">
                <input id="schedule-minute" type="number" min={0} max={59} value={form.preset.minute} onInput={(e) => setPreset({ minute: clampInt(e.currentTarget.value, 0, 59) })} />
              </Field>
            ) : null}
            {form.preset.kind === 'weekly' ? (
              <Field id="schedule-weekday" label="On">
                <select id="schedule-weekday" value={String(form.preset.weekday)} onChange={(e) => setPreset({ weekday: Number(e.currentTarget.value) })}>
                  {WEEKDAYS.map((name, index) => (
                    <option key={name} value={String(index)}>
                      {name}
                    </option>
                  ))}
                </select>
              </Field>
            ) : null}
            {form.preset.kind === 'daily' || form.preset.kind === 'weekdays' || form.preset.kind === 'weekly' ? (
              <Field id="schedule-time" label="At">
                <input id="schedule-time" type="time" required value={form.preset.time} onInput={(e) => e.currentTarget.value && setPreset({ time: e.currentTarget.value })} />
              </Field>
            ) : null}
            <Field id="agent-timezone" label="Timezone" error={errors.timezone}>
              <input
                id="agent-timezone"
                list="timezones"
                value={form.timezone}
                onInput={(e) => set('timezone', e.currentTarget.value)}
                autoComplete="off"
                spellcheck={false}
                aria-invalid={errors.timezone ? true : undefined}
                aria-describedby={describedBy('timezone')}
              />
              <datalist id="timezones">
                {zones.map((zone) => (
                  <option key={zone} value={zone} />
                ))}
              </datalist>
            </Field>
          </div>
          {form.preset.kind === 'custom' ? (
            <Field
              id="schedule-custom"
              label="Cron expression"
              hint="Five fields (minute hour day-of-month month day-of-week), six with seconds first, or @hourly, @daily, @weekly, @monthly, @yearly."
            >
              <input
                id="schedule-custom"
                class="mono"
                value={form.preset.custom}
                onInput={(e) => setPreset({ custom: e.currentTarget.value })}
                spellcheck={false}
                autoComplete="off"
                placeholder="0 9 * * 1-5"
                aria-invalid={preview.error || errors.schedule ? true : undefined}
                aria-describedby={['schedule-custom-hint', 'schedule-preview'].join(' ')}
              />
            </Field>
          ) : null}
          <SchedulePreviewBox expression={expression} timezone={form.timezone} preview={preview} />
        </section>

        <section class="card form-section">
          <h2>Limits and tools</h2>
          <div class="form-row">
            <Field id="agent-max-turns" label="Max turns" error={errors.maxTurns} hint="Per run.">
              <input
                id="agent-max-turns"
                type="number"
                min={1}
                max={10000}
                step={1}
                inputMode="numeric"
                value={form.maxTurns}
                onInput={(e) => set('maxTurns', e.currentTarget.value)}
                aria-invalid={errors.maxTurns ? true : undefined}
                aria-describedby={describedBy('maxTurns', 'agent-max-turns-hint')}
              />
            </Field>
            <Field id="agent-budget" label="Budget per run (USD)" error={errors.maxBudgetUsd} hint="Empty: no limit.">
              <input
                id="agent-budget"
                type="number"
                min={0}
                step={0.01}
                inputMode="decimal"
                placeholder="No limit"
                value={form.maxBudgetUsd}
                onInput={(e) => set('maxBudgetUsd', e.currentTarget.value)}
                aria-invalid={errors.maxBudgetUsd ? true : undefined}
                aria-describedby={describedBy('maxBudgetUsd', 'agent-budget-hint')}
              />
            </Field>
            <Field id="agent-model" label="Model" error={errors.model} hint="Empty: the SDK's default.">
              <input
                id="agent-model"
                list="models"
                placeholder="SDK default"
                value={form.model}
                onInput={(e) => set('model', e.currentTarget.value)}
                autoComplete="off"
                spellcheck={false}
                aria-invalid={errors.model ? true : undefined}
                aria-describedby={describedBy('model', 'agent-model-hint')}
              />
              <datalist id="models">
                {MODELS.map((model) => (
                  <option key={model} value={model} />
                ))}
              </datalist>
            </Field>
          </div>
          <Field
            id="agent-tools"
            label="Allowed tools"
            error={errors.allowedTools}
            hint="One Claude Code permission rule per line, e.g. Read, Grep or Bash(git log:*). Tools not listed are refused; runs never wait for approval."
          >
            <textarea
              id="agent-tools"
              class="mono"
              rows={4}
              value={form.allowedTools}
              onInput={(e) => set('allowedTools', e.currentTarget.value)}
              spellcheck={false}
              aria-invalid={errors.allowedTools ? true : undefined}
              aria-describedby={describedBy('allowedTools', 'agent-tools-hint')}
            />
          </Field>
          <div class="field">
            <label class="checkbox">
              <input id="agent-enabled" type="checkbox" checked={form.enabled} onChange={(e) => set('enabled', e.currentTarget.checked)} />
              <span>Enabled: run on the schedule</span>
            </label>
          </div>
        </section>

        <div class="form-actions">
          <button type="submit" class="button button-primary" disabled={saving}>
            {saving ? 'Saving…' : agent ? 'Save changes' : 'Create agent'}
          </button>
          <Link href={agent ? `/agents/${agent.id}` : '/agents'} class="button">
            Cancel
          </Link>
        </div>
      </form>
    </>
  );
}

/** The API's message as a sentence; its schema wording for an empty required field, in plain words. */
function sentence(message: string): string {
  if (/fewer than 1 character|must not be empty or blank|is required/i.test(message)) return 'Required: this must not be empty.';
  return message.charAt(0).toUpperCase() + message.slice(1) + (/[.!?]$/.test(message) ? '' : '.');
}

function clampInt(text: string, min: number, max: number): number {
  const value = Math.round(Number(text));
  return Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : min;
}

function Field(props: { id: string; label: string; error?: string | undefined; hint?: string; required?: boolean; children: ComponentChildren }) {
  return (
    <div class={props.error ? 'field has-error' : 'field'}>
      <div class="field-label">
        <label for={props.id}>{props.label}</label>
        {/* Outside the label, so the control's name stays "Name", not "Name *". */}
        {props.required ? (
          <span class="required" aria-hidden="true">
            *
          </span>
        ) : null}
      </div>
      {props.children}
      {props.hint ? (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      {props.error ? (
        <p class="field-error" id={`${props.id}-error`} data-testid={`error-${props.id}`}>
          {props.error}
        </p>
      ) : null}
    </div>
  );
}

interface PreviewState {
  loading: boolean;
  data: SchedulePreview | null;
  error: string | null;
}

/** Asks the server (the same validator as saving uses) a moment after typing stops. */
function useSchedulePreview(expression: string, timezone: string): PreviewState {
  const [state, setState] = useState<PreviewState>({ loading: true, data: null, error: null });
  const sequence = useRef(0);
  useEffect(() => {
    const mine = ++sequence.current;
    setState((s) => ({ ...s, loading: true }));
    const timer = setTimeout(() => {
      previewSchedule(expression, timezone.trim() || 'UTC').then(
        (data) => mine === sequence.current && setState({ loading: false, data, error: null }),
        (error: unknown) => {
          if (mine !== sequence.current) return;
          const message =
            error instanceof ApiError ? (error.details.map((d) => `${d.field === 'timezone' ? 'Timezone' : 'Schedule'}: ${d.message}`).join('; ') || error.message) : String(error);
          setState({ loading: false, data: null, error: message });
        },
      );
    }, 250);
    return () => clearTimeout(timer);
  }, [expression, timezone]);
  return state;
}

function SchedulePreviewBox({ expression, timezone, preview }: { expression: string; timezone: string; preview: PreviewState }) {
  const seconds = hasSeconds(expression);
  return (
    <div class={preview.error ? 'schedule-preview invalid' : 'schedule-preview'} id="schedule-preview" aria-live="polite" data-testid="schedule-preview">
      <div class="schedule-expression">
        <span class="muted">Cron expression</span> <code data-testid="schedule-expression">{expression || '—'}</code>
      </div>
      {preview.error ? (
        <p class="field-error" data-testid="schedule-preview-error">
          {preview.error}
        </p>
      ) : preview.data ? (
        <>
          <p class="schedule-words" data-testid="schedule-description">
            {preview.data.description ?? 'Valid schedule'}
            <span class="muted"> · {preview.data.timezone}</span>
          </p>
          <div class="muted small">Next runs</div>
          <ol class="next-runs" data-testid="next-runs">
            {preview.data.nextRuns.map((run) => (
              <li key={run}>
                <time dateTime={run}>{inTimezone(run, preview.data!.timezone, seconds)}</time>
              </li>
            ))}
          </ol>
        </>
      ) : (
        <p class="muted">{preview.loading ? 'Checking the schedule…' : ' '}</p>
      )}
      {preview.loading && preview.data ? <span class="sr-only">Updating…</span> : null}
      {timezone.trim() === '' ? <p class="muted small">No timezone given: UTC.</p> : null}
    </div>
  );
}
