#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { generateMonolith } from './generate-monolith';
import { Distribution, DISTRIBUTIONS } from './generator/scale';

const usage = `Usage: fixture:generate --database NAME [--scale N] [--distribution ${DISTRIBUTIONS.join('|')}] [--replace] [--reference-date YYYY-MM-DD]

Creates a TopSteel monolith database and fills its 66 tables. Connection from DB_HOST, DB_PORT,
DB_USERNAME, DB_PASSWORD (or PGHOST, PGPORT, PGUSER, PGPASSWORD); maintenance database DB_MAINTENANCE_NAME.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      database: { type: 'string' },
      scale: { type: 'string', default: '1' },
      distribution: { type: 'string', default: 'spread' },
      replace: { type: 'boolean', default: false },
      'reference-date': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.database) {
    process.stderr.write(`${usage}\n`);
    return values.help ? 0 : 2;
  }
  const scale = Number(values.scale);
  const referenceDate = values['reference-date']
    ? new Date(`${values['reference-date']}T00:00:00Z`)
    : undefined;
  if (referenceDate && Number.isNaN(referenceDate.getTime())) {
    process.stderr.write('--reference-date must be YYYY-MM-DD\n');
    return 2;
  }
  const distribution = values.distribution as Distribution;
  if (!DISTRIBUTIONS.includes(distribution)) {
    process.stderr.write(`--distribution must be one of ${DISTRIBUTIONS.join(', ')}\n`);
    return 2;
  }
  const env = process.env;
  const report = await generateMonolith({
    connection: {
      host: env.DB_HOST ?? env.PGHOST ?? 'localhost',
      port: Number(env.DB_PORT ?? env.PGPORT ?? 5432),
      user: env.DB_USERNAME ?? env.PGUSER ?? 'postgres',
      password: env.DB_PASSWORD ?? env.PGPASSWORD,
      database: env.DB_MAINTENANCE_NAME ?? 'postgres',
    },
    database: values.database,
    scale,
    distribution,
    replace: values.replace,
    referenceDate,
    onStep: (step, milliseconds) => process.stderr.write(`  ${step.padEnd(40)} ${milliseconds} ms\n`),
  });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `fixture:generate failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  },
);
