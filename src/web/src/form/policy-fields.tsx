import { LIMITS } from '../../../defaults';
import { OVERLAP_POLICIES } from '../../../domain/types';
import { OVERLAP_HINTS, OVERLAP_LABELS } from '../policy-words';
import { useForm } from './form-state';
import { Field, TextField, fieldWiring } from './text-field';

/** What a slot does while the agent's previous run is still going (Temporal's overlap policies). */
function OverlapField() {
  const { form, errors, set } = useForm();
  const wiring = fieldWiring('overlapPolicy', errors, true);
  return (
    <Field
      id={wiring.id}
      label="While a run is still going"
      error={wiring.error}
      hint={`When a slot comes and the last run has not ended. ${OVERLAP_HINTS[form.overlapPolicy]}`}
    >
      <select
        id={wiring.id}
        value={form.overlapPolicy}
        onChange={(e) => set('overlapPolicy', OVERLAP_POLICIES.find((policy) => policy === e.currentTarget.value) ?? 'skip')}
        aria-invalid={wiring.invalid}
        aria-describedby={wiring.describedBy}
      >
        {OVERLAP_POLICIES.map((policy) => (
          <option key={policy} value={policy}>
            {OVERLAP_LABELS[policy]}
          </option>
        ))}
      </select>
    </Field>
  );
}

/** The agent's spend caps, overlap policy, retries and pause after failures (issue 11). */
export function PoliciesSection() {
  return (
    <section class="card form-section" data-testid="policies-section">
      <h2>Spend caps and failures</h2>
      <div class="form-row">
        <TextField
          name="dailyBudgetUsd"
          label="Daily cap (USD)"
          hint="Most this agent's runs may spend per UTC day. Empty: no cap."
          placeholder="No cap"
          number={{ min: 0, max: LIMITS.spendCapUsd, step: 0.01, inputMode: 'decimal' }}
        />
        <TextField
          name="monthlyBudgetUsd"
          label="Monthly cap (USD)"
          hint="Per UTC month. Empty: no cap."
          placeholder="No cap"
          number={{ min: 0, max: LIMITS.spendCapUsd, step: 0.01, inputMode: 'decimal' }}
        />
      </div>
      <p class="hint">
        A run starts only with room left under the caps and is stopped at what is left. A run without a budget per run holds the whole remainder while it runs:
        set one to let several runs share a cap.
      </p>
      <OverlapField />
      <div class="form-row">
        <TextField
          name="maxRetries"
          label="Retries"
          hint={`Of a run that ends in error (0 to ${LIMITS.maxRetries}).`}
          number={{ min: 0, max: LIMITS.maxRetries, step: 1, inputMode: 'numeric' }}
        />
        <TextField
          name="retryDelaySeconds"
          label="First retry after (seconds)"
          hint="Doubled for each further attempt, at most an hour."
          number={{ min: 1, max: LIMITS.retryDelaySeconds, step: 1, inputMode: 'numeric' }}
        />
        <TextField
          name="pauseAfterFailures"
          label="Pause after failures"
          hint="Disable the agent after this many failed runs in a row. Empty: never."
          placeholder="Never"
          number={{ min: 1, max: LIMITS.pauseAfterFailures, step: 1, inputMode: 'numeric' }}
        />
      </div>
    </section>
  );
}
