import { afterAll, describe, expect, it } from 'vitest';

describe('a suite whose afterAll throws', () => {
  afterAll(() => {
    throw new Error('afterAll failed on purpose');
  });

  it('passes', () => expect(1).toBe(1));
});
