// bench/RESULTS.md holds one section per benchmark, each between its own start and end markers;
// everything outside the markers is notes people wrote, kept as it is.
import fs from 'node:fs';
import path from 'node:path';

export const RESULTS = path.resolve(import.meta.dirname, 'RESULTS.md');

/**
 * Puts `block` (which begins with `start` and ends with `end`) in place of the section between
 * those markers, or at the end of the file when it has none yet.
 * @param {string} start
 * @param {string} end
 * @param {string} block
 * @param {string} [empty] the file's text when it does not exist yet
 */
export function writeResultsSection(start, end, block, empty = '# Benchmark results\n') {
  let text = fs.existsSync(RESULTS) ? fs.readFileSync(RESULTS, 'utf8') : empty;
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  text = a >= 0 && b > a ? text.slice(0, a) + block + text.slice(b + end.length) : `${text.trimEnd()}\n\n${block}\n`;
  fs.writeFileSync(RESULTS, text);
}
