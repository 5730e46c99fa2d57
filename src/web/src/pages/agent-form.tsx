import type { Ref } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { LIMITS } from '../../../defaults';
import { ApiError, createAgent, getAgent, updateAgent, type Agent, type AgentInput } from '../api';
import { Loading, Notice } from '../components/bits';
import { toast } from '../components/feedback';
import { ChevronIcon } from '../components/icons';
import { AdvancedSection } from '../form/advanced-fields';
import { changes, toInput } from '../form/agent-input';
import { ERROR_KEYS, FIELD_INPUT, FIELD_LABELS, MODEL_SUGGESTIONS, type FieldErrors } from '../form/form-fields';
import { FormContext, useForm, useFormState } from '../form/form-state';
import { PoliciesSection } from '../form/policy-fields';
import { ScheduleFields } from '../form/schedule-fields';
import { problemsOf } from '../form/server-problems';
import { TextField } from '../form/text-field';
import { useTitle } from '../hooks';
import { Link, navigate } from '../router';
import { useCanWrite } from '../session';

/** The agent editor: a new agent (agentId null) or an existing one. Its parts live in ../form. */
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

/** Creates the agent or sends what changed, then shows its page; throws what the server refused. */
async function save(agent: Agent | null, input: AgentInput): Promise<void> {
  if (!agent) {
    const created = await createAgent(input);
    toast('success', `Created ${created.name}`);
    navigate(`/agents/${created.id}`);
    return;
  }
  const patch = changes(agent, input);
  if (Object.keys(patch).length === 0) {
    toast('success', 'Nothing changed');
  } else {
    await updateAgent(agent.id, patch);
    toast('success', `Saved ${input.name}`);
  }
  navigate(`/agents/${agent.id}`);
}

function AgentForm({ agent, heading }: { agent: Agent | null; heading: string }) {
  const controls = useFormState(agent);
  const summaryRef = useRef<HTMLDivElement>(null);
  const showProblems = (errors: FieldErrors, formError: string | null) => {
    controls.refuse(errors, formError);
    requestAnimationFrame(() => summaryRef.current?.focus());
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    const { input, problems } = toInput(controls.form);
    if (Object.keys(problems).length > 0) return showProblems(problems, null);
    controls.startSaving();
    try {
      await save(agent, input);
      controls.stopSaving();
    } catch (error) {
      const { errors, formError } = problemsOf(error);
      showProblems(errors, formError);
    }
  };

  return (
    <FormContext.Provider value={controls}>
      <Breadcrumb agent={agent} />
      <div class="page-header">
        <h1 tabIndex={-1}>{heading}</h1>
      </div>
      <form class="form agent-form" onSubmit={submit} noValidate>
        <ErrorSummary summaryRef={summaryRef} />
        <AboutSection />
        <ScheduleFields agentId={agent?.id ?? null} />
        <LimitsSection />
        <PoliciesSection />
        <AdvancedSection />
        <div class="form-actions">
          <button type="submit" class="button button-primary" disabled={controls.saving}>
            {controls.saving ? 'Saving…' : agent ? 'Save changes' : 'Create agent'}
          </button>
          <Link href={agent ? `/agents/${agent.id}` : '/agents'} class="button">
            Cancel
          </Link>
        </div>
      </form>
    </FormContext.Provider>
  );
}

function Breadcrumb({ agent }: { agent: Agent | null }) {
  return (
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
  );
}

/** What kept the agent from being saved, each problem a link to its field; focused after a save fails. */
function ErrorSummary({ summaryRef }: { summaryRef: Ref<HTMLDivElement> }) {
  const { errors, formError } = useForm();
  const problemList = ERROR_KEYS.filter((f) => errors[f]);
  if (problemList.length === 0 && !formError) return null;
  return (
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
  );
}

function AboutSection() {
  return (
    <section class="card form-section">
      <h2>About</h2>
      <TextField name="name" label="Name" required maxLength={LIMITS.nameLength} />
      <TextField name="description" label="Description" hint="What the agent does, for the people who read the list." maxLength={LIMITS.descriptionLength} />
      <TextField name="prompt" label="Prompt" required hint="Sent to Claude on every run. Markdown is fine." rows={12} class="prompt-input" spellcheck />
    </section>
  );
}

function LimitsSection() {
  const { form, set } = useForm();
  return (
    <section class="card form-section">
      <h2>Limits and tools</h2>
      <div class="form-row">
        <TextField name="maxTurns" label="Max turns" hint="Per run." number={{ min: 1, max: LIMITS.maxTurns, step: 1, inputMode: 'numeric' }} />
        <TextField
          name="maxBudgetUsd"
          label="Budget per run (USD)"
          hint="Empty: no limit."
          placeholder="No limit"
          number={{ min: 0, step: 0.01, inputMode: 'decimal' }}
        />
        <TextField
          name="model"
          label="Model"
          hint="Empty: the SDK's default."
          placeholder="SDK default"
          spellcheck={false}
          suggestions={{ id: 'models', values: MODEL_SUGGESTIONS }}
        />
      </div>
      <TextField
        name="allowedTools"
        label="Allowed tools"
        hint="One Claude Code permission rule per line, e.g. Read, Grep or Bash(git log:*). Tools not listed are refused; runs never wait for approval."
        rows={4}
        class="mono"
        spellcheck={false}
      />
      <div class="field">
        <label class="checkbox">
          <input id="agent-enabled" type="checkbox" checked={form.enabled} onChange={(e) => set('enabled', e.currentTarget.checked)} />
          <span>Enabled: run on the schedule</span>
        </label>
      </div>
    </section>
  );
}
