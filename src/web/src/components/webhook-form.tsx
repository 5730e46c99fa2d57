import { useState } from 'preact/hooks';
import { ApiError, createWebhook, type Agent, type WebhookWithSecret } from '../api';
import { Field } from '../form/text-field';
import { EVENT_LABELS, EVENT_TYPES, FORMAT_LABELS, type EventType } from '../webhook-words';
import { toast } from './feedback';

type WebhookField = 'name' | 'url' | 'events' | 'agentIds' | 'format';
type WebhookErrors = Partial<Record<WebhookField, string>>;
const FIELDS: readonly WebhookField[] = ['name', 'url', 'events', 'agentIds', 'format'];

function sentence(message: string): string {
  const text = /fewer than 1 character|must not be empty or blank|is required/i.test(message) ? 'Required: this must not be empty' : message;
  const full = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(full) ? full : `${full}.`;
}

/** A refusal as errors beside their fields (`events[2]` goes beside the events), the rest for the form. */
function problemsOf(error: unknown): { errors: WebhookErrors; formError: string | null } {
  if (!(error instanceof ApiError) || error.details.length === 0) return { errors: {}, formError: error instanceof Error ? error.message : String(error) };
  const errors: WebhookErrors = {};
  const rest: string[] = [];
  for (const { field, message } of error.details) {
    const head = field.replace(/^body\.?/, '').split(/[.[]/)[0];
    const key = FIELDS.find((name) => name === head);
    if (key && !errors[key]) errors[key] = sentence(message);
    else if (!key) rest.push(`${field} ${message}`);
  }
  return { errors, formError: rest.length > 0 ? `${error.message} ${rest.join('; ')}` : null };
}

function wiring(id: string, error: string | undefined, hint: boolean) {
  const describedBy = [error ? `${id}-error` : null, hint ? `${id}-hint` : null].filter(Boolean).join(' ');
  return { id, 'aria-invalid': error ? true : undefined, 'aria-describedby': describedBy || undefined };
}

/** A group's error, announced with it (fieldsets have no single control to describe). */
function GroupError({ id, error }: { id: string; error: string | undefined }) {
  return error ? (
    <p class="field-error" id={`${id}-error`} data-testid={`error-${id}`}>
      {error}
    </p>
  ) : null;
}

interface FormState {
  name: string;
  url: string;
  events: EventType[];
  allAgents: boolean;
  agentIds: string[];
  format: 'standard' | 'slack';
}

const EMPTY: FormState = { name: '', url: '', events: ['run.failed'], allAgents: true, agentIds: [], format: 'standard' };

function toggle<T>(list: readonly T[], item: T, on: boolean): T[] {
  return on ? [...list.filter((x) => x !== item), item] : list.filter((x) => x !== item);
}

/** The form's state, and its submission: the server checks everything (its errors go beside their fields). */
function useWebhookForm(onCreated: (webhook: WebhookWithSecret) => Promise<void>) {
  const [form, setForm] = useState<FormState>(EMPTY);
  const [errors, setErrors] = useState<WebhookErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const set = <K extends keyof FormState>(key: K, value: FormState[K], field: WebhookField) => {
    setForm({ ...form, [key]: value });
    setErrors({ ...errors, [field]: undefined });
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    setSaving(true);
    setFormError(null);
    try {
      // Events in the listed order, whatever the order they were ticked in.
      const events = EVENT_TYPES.filter((type) => form.events.includes(type));
      const created = await createWebhook({
        name: form.name,
        url: form.url.trim(),
        events,
        agentIds: form.allAgents ? null : form.agentIds,
        format: form.format,
      });
      setForm(EMPTY);
      setErrors({});
      toast('success', `Created webhook ${created.name}`);
      await onCreated(created);
    } catch (error) {
      const problems = problemsOf(error);
      setErrors(problems.errors);
      setFormError(problems.formError);
    } finally {
      setSaving(false);
    }
  };
  return { form, errors, formError, saving, set, submit };
}

/** Creates a webhook. */
export function WebhookForm({ agents, onCreated }: { agents: readonly Agent[]; onCreated: (webhook: WebhookWithSecret) => Promise<void> }) {
  const { form, errors, formError, saving, set, submit } = useWebhookForm(onCreated);
  return (
    <form class="webhook-form" onSubmit={submit} noValidate aria-labelledby="new-webhook-heading">
      <h2 id="new-webhook-heading">New webhook</h2>
      <div class="form-row">
        <Field id="webhook-name" label="Name" error={errors.name} required>
          <input
            {...wiring('webhook-name', errors.name, false)}
            value={form.name}
            maxLength={200}
            onInput={(e) => set('name', e.currentTarget.value, 'name')}
          />
        </Field>
        <Field
          id="webhook-url"
          label="URL"
          error={errors.url}
          required
          hint="Where events are POSTed: http:// or https://. Private addresses are refused unless allowed."
        >
          <input
            {...wiring('webhook-url', errors.url, true)}
            type="url"
            inputMode="url"
            class="mono"
            placeholder="https://hooks.example.com/cron-agents"
            spellcheck={false}
            autoComplete="off"
            value={form.url}
            onInput={(e) => set('url', e.currentTarget.value, 'url')}
          />
        </Field>
      </div>
      <EventsField value={form.events} error={errors.events} onChange={(events) => set('events', events, 'events')} />
      <AgentsField
        agents={agents}
        all={form.allAgents}
        selected={form.agentIds}
        error={errors.agentIds}
        onAll={(all) => set('allAgents', all, 'agentIds')}
        onSelected={(ids) => set('agentIds', ids, 'agentIds')}
      />
      <fieldset class="fieldset" aria-describedby={errors.format ? 'webhook-format-error' : undefined}>
        <legend>Format</legend>
        <div class="radio-row">
          {(['standard', 'slack'] as const).map((format) => (
            <label key={format} class="checkbox">
              <input type="radio" name="webhook-format" checked={form.format === format} onChange={() => set('format', format, 'format')} />
              {FORMAT_LABELS[format]}
            </label>
          ))}
        </div>
        <GroupError id="webhook-format" error={errors.format} />
      </fieldset>
      {formError ? (
        <p class="field-error" role="alert" data-testid="webhook-form-error">
          {formError}
        </p>
      ) : null}
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={saving}>
          {saving ? 'Creating…' : 'Create webhook'}
        </button>
      </div>
    </form>
  );
}

function EventsField({ value, error, onChange }: { value: EventType[]; error: string | undefined; onChange: (events: EventType[]) => void }) {
  return (
    <fieldset class="fieldset" aria-describedby={error ? 'webhook-events-error' : undefined}>
      <legend>Events</legend>
      <div class="checkbox-grid">
        {EVENT_TYPES.map((type) => (
          <label key={type} class="checkbox">
            <input type="checkbox" checked={value.includes(type)} onChange={(e) => onChange(toggle(value, type, e.currentTarget.checked))} />
            <span>{EVENT_LABELS[type]}</span>
          </label>
        ))}
      </div>
      <GroupError id="webhook-events" error={error} />
    </fieldset>
  );
}

interface AgentsFieldProps {
  agents: readonly Agent[];
  all: boolean;
  selected: string[];
  error: string | undefined;
  onAll: (all: boolean) => void;
  onSelected: (ids: string[]) => void;
}

function AgentsField({ agents, all, selected, error, onAll, onSelected }: AgentsFieldProps) {
  return (
    <fieldset class="fieldset" aria-describedby={error ? 'webhook-agents-error' : undefined}>
      <legend>Agents</legend>
      <div class="radio-row">
        <label class="checkbox">
          <input type="radio" name="webhook-agents" checked={all} onChange={() => onAll(true)} />
          All agents, those created later too
        </label>
        <label class="checkbox">
          <input type="radio" name="webhook-agents" checked={!all} onChange={() => onAll(false)} />
          Selected agents
        </label>
      </div>
      {all ? null : agents.length === 0 ? (
        <p class="muted small">There are no agents yet.</p>
      ) : (
        <div class="checkbox-grid subfields" role="group" aria-label="Agents to cover">
          {agents.map((agent) => (
            <label key={agent.id} class="checkbox">
              <input type="checkbox" checked={selected.includes(agent.id)} onChange={(e) => onSelected(toggle(selected, agent.id, e.currentTarget.checked))} />
              {agent.name}
            </label>
          ))}
        </div>
      )}
      <GroupError id="webhook-agents" error={error} />
    </fieldset>
  );
}
