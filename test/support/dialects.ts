import { openSqliteStore } from '../../src/store/sqlite/open-sqlite-store.js';
import type { Store } from '../../src/store/store.js';

/** A store dialect the shared suites run against. */
export interface DialectUnderTest {
  name: string;
  /** A fresh, migrated, empty store. */
  open(): Promise<Store>;
}

/** Every dialect available here: SQLite always. */
export function dialectsUnderTest(): DialectUnderTest[] {
  return [
    {
      name: 'sqlite',
      async open() {
        const store = openSqliteStore(':memory:');
        await store.migrate();
        return store;
      },
    },
  ];
}
