import { TextRow } from './apply-sql';

/** Keys remembered per table before the table falls back to a whole-table check at the cutover. */
export const CHANGED_KEYS_CAP = 200_000;

/** What the cutover verifies of one source table: these rows (key columns and text values), or all of it. */
export type ChangedRows = { kind: 'keys'; columns: string[]; keys: (string | null)[][] } | { kind: 'whole' };

type Tracked = { columns: string[]; keys: Map<string, string[]> } | 'whole';

/**
 * The primary-key values of every row the follower saw change, per source table, so that the
 * cutover can verify exactly those rows on both sides instead of whole tables. Memory is bounded:
 * past the cap, or for a change it cannot key (no usable key, a TRUNCATE), a table is marked for
 * the whole-table check instead, which is never weaker.
 */
export class ChangedKeys {
  private readonly tables = new Map<string, Tracked>();

  constructor(private readonly cap = CHANGED_KEYS_CAP) {}

  /** One row of `table` changed; `row` holds (at least) its key columns as decoded text. */
  add(table: string, columns: string[], row: TextRow): void {
    const tracked = this.tables.get(table);
    if (tracked === 'whole') return;
    const values = columns.map((column) => row[column]);
    // A key the decoder did not carry (or NULL) cannot select the row: check the whole table.
    if (columns.length === 0 || values.some((value) => value === undefined || value === null))
      return this.whole(table);
    if (tracked && tracked.columns.join('\u0000') !== columns.join('\u0000')) return this.whole(table);
    const current = tracked ?? { columns, keys: new Map<string, string[]>() };
    if (!tracked) this.tables.set(table, current);
    current.keys.set(JSON.stringify(values), values as string[]);
    if (current.keys.size > this.cap) this.whole(table);
  }

  /** A change of `table` that names no row (TRUNCATE, a keyless table): the whole table is verified. */
  whole(table: string): void {
    this.tables.set(table, 'whole');
  }

  of(table: string): ChangedRows {
    const tracked = this.tables.get(table);
    if (!tracked || tracked === 'whole') return { kind: 'whole' };
    return { kind: 'keys', columns: tracked.columns, keys: [...tracked.keys.values()] };
  }
}
