import { ExitCode } from '../../common/exceptions/exit-code';
import { ExceptionCodeInfo, TopsteelException } from '../../common/exceptions/topsteel.exception';

export enum ConfigExceptionCode {
  InvalidEnvironment = 'INVALID_ENVIRONMENT',
  UnreadableEnvFile = 'UNREADABLE_ENV_FILE',
}

export type ConfigProblem = { variable: string; reason: string };

const INFO: Record<ConfigExceptionCode, ExceptionCodeInfo> = {
  [ConfigExceptionCode.InvalidEnvironment]: {
    exitCode: ExitCode.Usage,
    hint: 'Fix the variables named above in .env or the environment (.env.example documents each one), then run the command again.',
  },
  [ConfigExceptionCode.UnreadableEnvFile]: {
    exitCode: ExitCode.Usage,
    hint: 'Make the .env file readable or point TOPSTEEL_ENV_FILE at the right file ("none" to use the environment only).',
  },
};

export class ConfigException extends TopsteelException<ConfigExceptionCode> {
  readonly domain = 'config';

  constructor(
    code: ConfigExceptionCode,
    message: string,
    readonly problems: ConfigProblem[] = [],
  ) {
    super(code, message, INFO[code], { problems });
  }
}
