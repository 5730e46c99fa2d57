import { expect, it } from 'vitest';

function failToLoad(): void {
  throw new Error('the file fails to load on purpose');
}

failToLoad();

it('is never collected', () => expect(1).toBe(1));
