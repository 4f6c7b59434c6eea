#!/usr/bin/env node
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppConfig, loadAppConfig } from './http/app-config';
import { requestLogger } from './http/logging/request-logger';
import { ApplicationLogService } from './http/logging/application-log.service';
import { AppModule } from './app.module';
import { ExitCode } from './common/exceptions/exit-code';
import { isTopsteelException } from './common/exceptions/topsteel.exception';
import { redactSecrets } from './common/secrets/secret';
import { ConfigException, ConfigExceptionCode, ConfigProblem } from './database/config/config.exception';
import {
  loadMultiTenantDatabaseConfig,
  MultiTenantDatabaseConfig,
  readEnvironment,
} from './database/config/multi-tenant-database.config';
import { DatabaseConfigService } from './modules/database/database-config.service';

function fail(error: unknown, fallback: ExitCode): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`✖ ${redactSecrets(message)}\n`);
  if (isTopsteelException(error)) process.stderr.write(`  → ${error.hint}\n`);
  process.exit(isTopsteelException(error) ? error.exitCode : fallback);
}

/** Both configurations, validated before anything starts: every bad variable is named, exit 2. */
function configuration(): { database: MultiTenantDatabaseConfig; app: AppConfig } {
  const problems: ConfigProblem[] = [];
  const attempt = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (error) {
      if (!(error instanceof ConfigException) || error.problems.length === 0)
        return fail(error, ExitCode.Usage);
      problems.push(...error.problems);
      return undefined;
    }
  };
  const env = attempt(() => readEnvironment());
  const database = env && attempt(() => loadMultiTenantDatabaseConfig(env));
  const app = env && attempt(() => loadAppConfig(env));
  if (!database || !app) {
    const lines = problems.map((problem) => `  ${problem.variable}: ${problem.reason}`).join('\n');
    return fail(
      new ConfigException(
        ConfigExceptionCode.InvalidEnvironment,
        `invalid configuration:\n${lines}`,
        problems,
      ),
      ExitCode.Usage,
    );
  }
  return { database, app };
}

/**
 * The HTTP app: validated configuration, JSON-line logs in LOG_DIR/application.log, the request
 * logger first, pools closed on SIGTERM/SIGINT. Nothing connects to a database before the first
 * request, so the app starts (and /health reports) even while a database is down.
 */
async function bootstrap(): Promise<void> {
  const config = configuration();
  const log = new ApplicationLogService(config.database.logDir);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config.app, log), {
    logger: log,
    abortOnError: false,
    bodyParser: false,
  });
  app.get(DatabaseConfigService).useConfig(config.database);
  app.disable('x-powered-by');
  // The request logger goes first, so that even a malformed body gets an id and a log line.
  app.use(requestLogger(log));
  app.useBodyParser('json', { limit: '100kb' });
  // Not SIGHUP, which Nest would treat as a shutdown: it reopens the log (logrotate).
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  // logrotate's postrotate sends SIGHUP: the next line opens a new application.log.
  process.on('SIGHUP', () => log.reopen());
  await app.listen(config.app.port, config.app.host);
  log.event('listening', { host: config.app.host, port: config.app.port, mode: config.app.mode });
  process.stderr.write(
    `TopSteel API listening on ${config.app.host}:${config.app.port} (DB_MODE=${config.app.mode}); logs in ${log.path}\n`,
  );
}

bootstrap().catch((error: unknown) => fail(error, ExitCode.Failure));
