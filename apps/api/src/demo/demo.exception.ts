import { ExitCode } from '../common/exceptions/exit-code';
import { ExceptionCodeInfo, TopsteelException } from '../common/exceptions/topsteel.exception';

export enum DemoExceptionCode {
  EmbeddedServerFailed = 'EMBEDDED_SERVER_FAILED',
}

const INFO: Record<DemoExceptionCode, ExceptionCodeInfo> = {
  [DemoExceptionCode.EmbeddedServerFailed]: {
    exitCode: ExitCode.Failure,
    hint: 'Started as root, the embedded PostgreSQL runs as the "postgres" OS user, which must be able to enter every folder above its binaries (node_modules) and above its data (--dir): keep the checkout and --dir under folders every user can enter (/opt, /srv, /tmp), or point .env at a PostgreSQL server.',
  },
};

export class DemoException extends TopsteelException<DemoExceptionCode> {
  readonly domain = 'demo';

  constructor(code: DemoExceptionCode, message: string) {
    super(code, message, INFO[code]);
  }
}
