import { useMemo } from 'preact/hooks';
import { PRESET_KINDS, PRESET_LABELS, WEEKDAYS, presetExpression, timezones, type SchedulePreset } from '../schedule';
import { useForm } from './form-state';
import { SchedulePreviewBox, useSchedulePreview, type PreviewState } from './schedule-preview';
import { Field, TextField, fieldWiring } from './text-field';

function clampInt(text: string, min: number, max: number): number {
  const value = Math.round(Number(text));
  return Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : min;
}

/** "Repeats" and the settings of the chosen preset (minute, weekday, time). */
function PresetFields({ preset }: { preset: SchedulePreset }) {
  const { errors, setPreset } = useForm();
  const repeats = fieldWiring('schedule', errors, false);
  const atTime = preset.kind === 'daily' || preset.kind === 'weekdays' || preset.kind === 'weekly';
  return (
    <>
      <Field id={repeats.id} label="Repeats" error={repeats.error}>
        <select
          id={repeats.id}
          value={preset.kind}
          onChange={(e) => setPreset({ kind: PRESET_KINDS.find((kind) => kind === e.currentTarget.value) ?? 'custom' })}
          aria-describedby={repeats.describedBy}
        >
          {PRESET_KINDS.map((kind) => (
            <option key={kind} value={kind}>
              {PRESET_LABELS[kind]}
            </option>
          ))}
        </select>
      </Field>
      {preset.kind === 'hourly' ? (
        <Field id="schedule-minute" label="At minute">
          <input
            id="schedule-minute"
            type="number"
            min={0}
            max={59}
            value={preset.minute}
            onInput={(e) => setPreset({ minute: clampInt(e.currentTarget.value, 0, 59) })}
          />
        </Field>
      ) : null}
      {preset.kind === 'weekly' ? (
        <Field id="schedule-weekday" label="On">
          <select id="schedule-weekday" value={String(preset.weekday)} onChange={(e) => setPreset({ weekday: Number(e.currentTarget.value) })}>
            {WEEKDAYS.map((name, index) => (
              <option key={name} value={String(index)}>
                {name}
              </option>
            ))}
          </select>
        </Field>
      ) : null}
      {atTime ? (
        <Field id="schedule-time" label="At">
          <input
            id="schedule-time"
            type="time"
            required
            value={preset.time}
            onInput={(e) => e.currentTarget.value && setPreset({ time: e.currentTarget.value })}
          />
        </Field>
      ) : null}
    </>
  );
}

/** The expression itself, for a custom schedule; the preview below says what is wrong with it. */
function CustomExpressionField({ preset, preview }: { preset: SchedulePreset; preview: PreviewState }) {
  const { errors, setPreset } = useForm();
  return (
    <Field
      id="schedule-custom"
      label="Cron expression"
      hint="Five fields (minute hour day-of-month month day-of-week), six with seconds first, or @hourly, @daily, @weekly, @monthly, @yearly."
    >
      <input
        id="schedule-custom"
        class="mono"
        value={preset.custom}
        onInput={(e) => setPreset({ custom: e.currentTarget.value })}
        spellcheck={false}
        autoComplete="off"
        placeholder="0 9 * * 1-5"
        aria-invalid={preview.error || errors.schedule ? true : undefined}
        aria-describedby="schedule-custom-hint schedule-preview"
      />
    </Field>
  );
}

/**
 * The schedule section: a preset or a cron expression, its timezone, and the server's preview;
 * editing an agent (`agentId`), also what the schedule would cost at the agent's recent runs.
 */
export function ScheduleFields({ agentId = null }: { agentId?: string | null }) {
  const { form } = useForm();
  const zones = useMemo(timezones, []);
  const expression = presetExpression(form.preset);
  const preview = useSchedulePreview(expression, form.timezone, agentId);
  return (
    <section class="card form-section">
      <h2>Schedule</h2>
      <div class="form-row">
        <PresetFields preset={form.preset} />
        <TextField name="timezone" label="Timezone" spellcheck={false} suggestions={{ id: 'timezones', values: zones }} />
      </div>
      {form.preset.kind === 'custom' ? <CustomExpressionField preset={form.preset} preview={preview} /> : null}
      <SchedulePreviewBox expression={expression} timezone={form.timezone} preview={preview} monthlyCap={form.monthlyBudgetUsd} />
    </section>
  );
}
