import 'reflect-metadata';
import { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Injectable, Module } from '@nestjs/common';
import { CommandFactory, InjectCommander } from 'nest-commander';
import { CliModule } from '../../cli.module';
import { describeProgram, HELP_TABLE_FILE } from './help-table';

/** Holds the commander program nest-commander builds, which it exposes only through injection. */
@Injectable()
class ProgramHolder {
  constructor(@InjectCommander() readonly program: Command) {}
}

@Module({ imports: [CliModule], providers: [ProgramHolder] })
class HelpTableModule {}

/**
 * Build step (npm run build, after tsc): reads the commands nest-commander builds from the
 * decorators and writes them as the table `--help` answers from without the Nest context.
 */
async function writeHelpTable(): Promise<void> {
  const app = await CommandFactory.createWithoutRunning(HelpTableModule, { logger: ['error'] });
  const { program } = app.get(ProgramHolder);
  const file = join(__dirname, HELP_TABLE_FILE);
  writeFileSync(file, `${JSON.stringify(describeProgram(program), null, 2)}\n`);
  await app.close();
  process.stdout.write(`help table: ${program.commands.length} commands in ${file}\n`);
}

writeHelpTable().catch((error: unknown) => {
  process.stderr.write(`✖ help table: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
