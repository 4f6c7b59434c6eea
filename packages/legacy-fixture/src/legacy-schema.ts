import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The monolith schema, a byte-identical copy of `shared/legacy/topsteel-monolith.sql`. */
export const LEGACY_SCHEMA_PATH = join(__dirname, '..', 'sql', 'topsteel-monolith.sql');

export function readLegacySchema(): string {
  return readFileSync(LEGACY_SCHEMA_PATH, 'utf8');
}

/** Table names declared by the schema file, in file order (the contract's 66 tables). */
export function legacyTableNames(sql: string = readLegacySchema()): string[] {
  return [...sql.matchAll(/^CREATE TABLE (\w+) \(/gm)].map((match) => match[1]);
}
