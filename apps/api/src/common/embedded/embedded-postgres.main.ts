#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { startEmbeddedPostgres } from './embedded-postgres.server';

/**
 * Runs an embedded PostgreSQL in its own process until SIGTERM/SIGINT, printing one JSON line with
 * its connection on stdout when ready. The test harness uses it when no server answers.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string' },
      port: { type: 'string' },
      // Server settings for this instance, e.g. `--setting wal_level=logical` for the online split's specs.
      setting: { type: 'string', multiple: true },
    },
  });
  if (!values.dir) throw new Error('--dir is required');
  const password = process.env.EMBEDDED_PG_PASSWORD ?? 'postgres';
  const handle = await startEmbeddedPostgres({
    dataDirectory: values.dir,
    port: values.port ? Number(values.port) : undefined,
    password,
    persistent: false,
    settings: values.setting,
  });
  process.stdout.write(`${JSON.stringify({ host: handle.host, port: handle.port, user: handle.user })}\n`);
  const stop = () => {
    void handle.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `embedded PostgreSQL failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
