import { Global, Module } from '@nestjs/common';
import { CommandContextFactory } from './command-context.factory';
import { CommandOutputService } from './command-output.service';
import { CommandShutdownService } from './command-shutdown.service';
import { RunLogService } from './run-log.service';

const PROVIDERS = [CommandOutputService, RunLogService, CommandShutdownService, CommandContextFactory];

/** Output, run log and shutdown handling shared by every command. */
@Global()
@Module({ providers: PROVIDERS, exports: PROVIDERS })
export class CliRunnerModule {}
