import cronstrue from 'cronstrue';

/**
 * A schedule in words ("At 09:00 AM, Monday through Friday"), from `cronstrue`. Pure and free of
 * Node APIs: the dashboard bundles this same file, so the list and the editor say the same thing.
 * Returns null when cronstrue cannot read the expression (the server's validator is the judge
 * of what is valid; this only describes).
 */
export function describeSchedule(expression: string): string | null {
  const trimmed = expression.trim();
  if (trimmed === '') return null;
  try {
    return cronstrue.toString(trimmed, { use24HourTimeFormat: false, throwExceptionOnParseError: true, verbose: false });
  } catch {
    return null;
  }
}
