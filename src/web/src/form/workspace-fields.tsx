import type { WorkspaceKind } from './form-fields';
import { useForm } from './form-state';
import { TextField, fieldWiring } from './text-field';

const KINDS: readonly { kind: WorkspaceKind; label: string; hint: string }[] = [
  { kind: 'own', label: "The agent's own folder", hint: "Runs work in a folder of the agent's own under the service's data dir, kept from run to run." },
  {
    kind: 'git',
    label: 'A git repository',
    hint: "Before each run the service clones the repository into the agent's folder (later runs fetch it) and checks out the branch, tag or commit. A failed fetch ends the run as an error.",
  },
  {
    kind: 'host',
    label: 'A folder of this machine',
    hint: 'Runs work in a folder of the host, which must be under the folders the operator allows (CRON_AGENTS_ALLOWED_HOST_PATHS).',
  },
];

function GitFields() {
  return (
    <div class="subfields">
      <TextField
        name="gitUrl"
        label="Repository URL"
        required
        class="mono"
        spellcheck={false}
        placeholder="https://github.com/org/repo.git"
        hint={
          <>
            https://, http:// or git://. For a private repository put a secret in the URL, e.g.{' '}
            <code>{'https://x-access-token:${secret:GITHUB_TOKEN}@github.com/org/repo.git'}</code>
          </>
        }
      />
      <div class="form-row">
        <TextField name="gitRef" label="Branch, tag or commit" class="mono" spellcheck={false} placeholder="Default branch" hint="Empty: the default branch." />
        <TextField
          name="gitDepth"
          label="Depth"
          placeholder="Full history"
          hint="Commits to fetch. Empty: all."
          number={{ min: 1, step: 1, inputMode: 'numeric' }}
        />
      </div>
    </div>
  );
}

function HostFields() {
  const { form, errors, set } = useForm();
  const readOnly = fieldWiring('hostReadOnly', errors, false);
  return (
    <div class="subfields">
      <TextField name="hostPath" label="Folder" required class="mono" spellcheck={false} placeholder="/srv/projects/site" hint="An absolute path." />
      <div class={readOnly.error ? 'field has-error' : 'field'}>
        <label class="checkbox">
          <input
            id={readOnly.id}
            type="checkbox"
            checked={form.hostReadOnly}
            onChange={(e) => set('hostReadOnly', e.currentTarget.checked)}
            aria-invalid={readOnly.invalid}
            aria-describedby={readOnly.describedBy}
          />
          <span>Read-only: runs may read the folder but not change it</span>
        </label>
        {readOnly.error ? (
          <p class="field-error" id={`${readOnly.id}-error`} data-testid={`error-${readOnly.id}`}>
            {readOnly.error}
          </p>
        ) : null}
      </div>
    </div>
  );
}

/** Where the runs work: the kind (radio buttons), then the chosen kind's settings. */
export function WorkspaceFields() {
  const { form, errors, set } = useForm();
  const wiring = fieldWiring('workspace', errors, true);
  const chosen = KINDS.find((k) => k.kind === form.workspace) ?? KINDS[0];
  return (
    <fieldset class={wiring.error ? 'fieldset has-error' : 'fieldset'} id={wiring.id} tabIndex={-1} aria-describedby={wiring.describedBy}>
      <legend>Workspace</legend>
      <div class="radio-row">
        {KINDS.map(({ kind, label }) => (
          <label key={kind} class="checkbox">
            <input type="radio" name="workspace-kind" value={kind} checked={form.workspace === kind} onChange={() => set('workspace', kind)} />
            <span>{label}</span>
          </label>
        ))}
      </div>
      <p class="hint" id={`${wiring.id}-hint`}>
        {chosen?.hint}
      </p>
      {wiring.error ? (
        <p class="field-error" id={`${wiring.id}-error`} data-testid={`error-${wiring.id}`}>
          {wiring.error}
        </p>
      ) : null}
      {form.workspace === 'git' ? <GitFields /> : null}
      {form.workspace === 'host' ? <HostFields /> : null}
    </fieldset>
  );
}
