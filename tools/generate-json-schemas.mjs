// Generates docs/schemas/<command>.schema.json from the document types in
// apps/api/src/cli/json-documents.ts. `--check` (run by `npm run check`) regenerates in memory and
// fails when a file differs, so a report type changed without `npm run schemas` stops the gate.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { createGenerator } from 'ts-json-schema-generator';

const DOCUMENTS = {
  status: 'StatusDocument',
  audit: 'AuditDocument',
  'dry-run': 'DryRunDocument',
  backup: 'BackupDocument',
  clean: 'CleanDocument',
  migrate: 'MigrateDocument',
  verify: 'VerifyDocument',
  rollback: 'RollbackDocument',
  'societe:create': 'SocieteCreateDocument',
  'societe:list': 'SocieteListDocument',
  'societe:move': 'SocieteMoveDocument',
  cutover: 'CutoverDocument',
  demo: 'DemoDocument',
};

const root = (path) => fileURLToPath(new URL(`../${path}`, import.meta.url));
const check = process.argv.includes('--check');

// One program for every type; skipTypeCheck because `npm run typecheck` already checks it.
const generator = createGenerator({
  path: root('apps/api/src/cli/json-documents.ts'),
  tsconfig: root('tsconfig.json'),
  skipTypeCheck: true,
  expose: 'none',
  topRef: false,
  additionalProperties: true,
});

mkdirSync(root('docs/schemas'), { recursive: true });
const stale = [];
for (const [command, type] of Object.entries(DOCUMENTS)) {
  const file = `docs/schemas/${command.replace(':', '-')}.schema.json`;
  const schema = {
    $id: `https://topsteel.example/schemas/${command.replace(':', '-')}.schema.json`,
    title: `topsteel ${command} --json document`,
    ...generator.createSchema(type),
  };
  // Formatted as prettier would, so `npm run format` and the check agree on the bytes.
  const text = await format(JSON.stringify(schema), { ...(await resolveConfig(root(file))), parser: 'json' });
  if (!check) writeFileSync(root(file), text);
  else {
    let current = '';
    try {
      current = readFileSync(root(file), 'utf8');
    } catch {
      // missing: reported as stale below
    }
    if (current !== text) stale.push(file);
  }
}
if (stale.length > 0) {
  process.stderr.write(
    `schemas: ${stale.join(', ')} out of date with the report types: run npm run schemas\n`,
  );
  process.exit(1);
}
process.stdout.write(
  check
    ? 'schemas: up to date\n'
    : `schemas: wrote ${Object.keys(DOCUMENTS).length} files in docs/schemas/\n`,
);
