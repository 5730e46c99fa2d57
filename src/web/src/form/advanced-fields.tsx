import { useEffect, useState } from 'preact/hooks';
import { LIMITS } from '../../../defaults';
import { EFFORTS, type Effort } from '../../../domain/types';
import { ADVANCED_KEYS, MODEL_SUGGESTIONS } from './form-fields';
import { useForm } from './form-state';
import { McpServersField } from './mcp-servers-field';
import { OutputSchemaField } from './output-schema-field';
import { runOptionsInUse } from './run-options-input';
import { Field, TextField, fieldWiring } from './text-field';
import { WorkspaceFields } from './workspace-fields';

const EFFORT_LABELS: Record<Effort, string> = { low: 'Low', medium: 'Medium', high: 'High', xhigh: 'Extra high', max: 'Max' };

function EffortField() {
  const { form, errors, set } = useForm();
  const wiring = fieldWiring('effort', errors, true);
  return (
    <Field id={wiring.id} label="Effort" error={wiring.error} hint="How hard the model thinks; more costs more.">
      <select
        id={wiring.id}
        value={form.effort}
        onChange={(e) => set('effort', EFFORTS.find((effort) => effort === e.currentTarget.value) ?? '')}
        aria-invalid={wiring.invalid}
        aria-describedby={wiring.describedBy}
      >
        <option value="">Default</option>
        {EFFORTS.map((effort) => (
          <option key={effort} value={effort}>
            {EFFORT_LABELS[effort]}
          </option>
        ))}
      </select>
    </Field>
  );
}

/** Tool rules taken away and the hosts tool commands may reach. */
function ToolsAndNetwork() {
  return (
    <div class="form-row">
      <TextField
        name="disallowedTools"
        label="Disallowed tools"
        hint={
          <>
            One permission rule per line, refused even when allowed, e.g. <code>Bash(rm:*)</code>.
          </>
        }
        rows={3}
        class="mono"
        spellcheck={false}
      />
      <TextField
        name="allowedDomains"
        label="Allowed domains"
        hint={
          <>
            One host per line that tool commands may reach: <code>example.com</code>, <code>*.example.com</code> or an IP address. Empty: no network.
          </>
        }
        rows={3}
        class="mono"
        spellcheck={false}
      />
    </div>
  );
}

function ModelOptions() {
  return (
    <>
      <TextField
        name="systemPrompt"
        label="System prompt"
        hint="Appended to Claude Code's own system prompt on every run."
        rows={5}
        maxLength={LIMITS.systemPromptLength}
        spellcheck
      />
      <div class="form-row">
        <EffortField />
        <TextField
          name="fallbackModel"
          label="Fallback model"
          hint="Used when the model is overloaded; several, comma-separated, are tried in order."
          placeholder="None"
          spellcheck={false}
          suggestions={{ id: 'fallback-models', values: MODEL_SUGGESTIONS }}
        />
      </div>
    </>
  );
}

/**
 * The run options, folded away so the common agent stays a short form: it opens on a click, and
 * by itself when a save finds a problem in it. Its summary says which options are in use.
 */
export function AdvancedSection() {
  const { form, errors } = useForm();
  const [open, setOpen] = useState(false);
  const hasProblem = ADVANCED_KEYS.some((key) => errors[key]);
  useEffect(() => {
    if (hasProblem) setOpen(true);
  }, [hasProblem]);
  const inUse = runOptionsInUse(form);
  return (
    <details class="card advanced" open={open} onToggle={(e) => setOpen(e.currentTarget.open)} data-testid="advanced-section">
      <summary>
        <h2>Advanced</h2>
        <span class="muted small">
          {inUse.length > 0 ? `In use: ${inUse.join(', ')}` : 'Workspace, MCP servers, tool and network limits, system prompt, effort, output schema'}
        </span>
      </summary>
      <div class="form-section advanced-body">
        <WorkspaceFields />
        <McpServersField />
        <h3>Tools and network</h3>
        <ToolsAndNetwork />
        <h3>Model</h3>
        <ModelOptions />
        <h3>Structured output</h3>
        <OutputSchemaField />
      </div>
    </details>
  );
}
