/** A line-by-line diff of two texts (two versions of a prompt), as the History tab shows it. */

export interface DiffLine {
  kind: 'same' | 'added' | 'removed';
  text: string;
  /** Line numbers in the old and the new text (1-based); null where the line is not in that text. */
  oldNo: number | null;
  newNo: number | null;
}

/** A run of unchanged lines left out of a diff's view. */
export interface DiffGap {
  kind: 'gap';
  lines: number;
}

/**
 * Above this many cells (changed lines of one side times the other's), the middle of the diff is
 * shown as all removed then all added rather than aligned: the table would cost too much memory.
 */
const MAX_CELLS = 4_000_000;

/**
 * The lines of `before` and `after`, each kept, removed or added: a longest common subsequence of
 * the lines between the common head and tail (which most edits of a prompt leave long).
 */
export function diffLines(before: string, after: string): DiffLine[] {
  const a = before.split('\n');
  const b = after.split('\n');
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const lines: DiffLine[] = [];
  for (let i = 0; i < head; i++) lines.push({ kind: 'same', text: a[i]!, oldNo: i + 1, newNo: i + 1 });
  lines.push(...diffMiddle(a.slice(head, a.length - tail), b.slice(head, b.length - tail), head));
  for (let i = tail; i > 0; i--) {
    lines.push({ kind: 'same', text: a[a.length - i]!, oldNo: a.length - i + 1, newNo: b.length - i + 1 });
  }
  return lines;
}

function diffMiddle(a: string[], b: string[], offset: number): DiffLine[] {
  const removed = (i: number): DiffLine => ({ kind: 'removed', text: a[i]!, oldNo: offset + i + 1, newNo: null });
  const added = (j: number): DiffLine => ({ kind: 'added', text: b[j]!, oldNo: null, newNo: offset + j + 1 });
  if ((a.length + 1) * (b.length + 1) > MAX_CELLS) return [...a.map((_, i) => removed(i)), ...b.map((_, j) => added(j))];
  // lcs[i][j]: the longest common subsequence of a[i..] and b[j..], in one flat table.
  const width = b.length + 1;
  const lcs = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i * width + j] = a[i] === b[j] ? lcs[(i + 1) * width + j + 1]! + 1 : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
    }
  }
  const lines: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      lines.push({ kind: 'same', text: a[i]!, oldNo: offset + i + 1, newNo: offset + j + 1 });
      i++;
      j++;
    } else if (j < b.length && (i === a.length || lcs[i * width + j + 1]! >= lcs[(i + 1) * width + j]!)) {
      lines.push(added(j++));
    } else {
      lines.push(removed(i++));
    }
  }
  // Removals before additions where they interleave: a changed block reads as old, then new.
  return groupChanges(lines);
}

function groupChanges(lines: DiffLine[]): DiffLine[] {
  const grouped: DiffLine[] = [];
  let removed: DiffLine[] = [];
  let added: DiffLine[] = [];
  const flush = () => {
    grouped.push(...removed, ...added);
    removed = [];
    added = [];
  };
  for (const line of lines) {
    if (line.kind === 'removed') removed.push(line);
    else if (line.kind === 'added') added.push(line);
    else {
      flush();
      grouped.push(line);
    }
  }
  flush();
  return grouped;
}

/** The changed lines with `context` unchanged lines around each change; the rest as gaps. */
export function withContext(lines: DiffLine[], context = 3): (DiffLine | DiffGap)[] {
  const near = lines.map(() => false);
  lines.forEach((line, index) => {
    if (line.kind === 'same') return;
    for (let k = Math.max(0, index - context); k <= Math.min(lines.length - 1, index + context); k++) near[k] = true;
  });
  const shown: (DiffLine | DiffGap)[] = [];
  let gap = 0;
  lines.forEach((line, index) => {
    if (near[index]) {
      if (gap > 0) shown.push({ kind: 'gap', lines: gap });
      gap = 0;
      shown.push(line);
    } else gap++;
  });
  if (gap > 0) shown.push({ kind: 'gap', lines: gap });
  return shown;
}
