#!/usr/bin/env node
// The `topsteel` bin (npx topsteel status --json): the compiled CLI, which npm ci builds through
// `prepare` and a production image copies from its build stage.
import { existsSync } from 'node:fs';
import { fileURLToPath, URL } from 'node:url';
import process from 'node:process';

const url = new URL('../dist/cli.js', import.meta.url);
const cli = fileURLToPath(url);
if (!existsSync(cli)) {
  process.stderr.write(
    `✖ topsteel is not built (${cli} is missing)\n  → run npm run build (npm ci runs it)\n`,
  );
  process.exit(2);
}
await import(url.href);
