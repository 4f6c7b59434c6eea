import { Injectable } from '@nestjs/common';
import { RunContext } from '../../../common/run/run-context';
import { DatabaseConfigService } from '../../../modules/database/database-config.service';
import { PostgresConnectionFactory } from '../../../modules/database/postgres-connection.factory';
import { OnlineJournal } from './online-journal';
import { OnlineSplitException, OnlineSplitExceptionCode } from './online-split.exception';

export type CutoverRequestReport = {
  outcome: 'done' | 'aborted';
  attempts: number;
  pauseMs: number | null;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `db:cutover`: asks the `db:migrate -- --online --cutover manual` that is following to cut over,
 * through the journal, and waits for the outcome of that request.
 */
@Injectable()
export class CutoverRequestService {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
  ) {}

  async request(run: RunContext): Promise<CutoverRequestReport> {
    const auth = { database: this.configService.config.authDatabase };
    return this.connections.withClient(
      auth,
      async (client) => {
        const journal = new OnlineJournal(client);
        const state = await journal.read();
        if (!state || (state.phase !== 'following' && state.phase !== 'cutover'))
          throw new OnlineSplitException(
            OnlineSplitExceptionCode.NoOnlineSplit,
            `no online split is following (${state ? `phase ${state.phase}` : 'none started'})`,
          );
        await journal.update({ cutoverRequestedAt: new Date(), cutoverOutcome: null });
        run.info('Cutover requested; waiting for the online split to carry it out…');
        for (;;) {
          run.shutdown.throwIfRequested();
          await sleep(200);
          const now = await journal.read();
          if (now?.cutoverOutcome === 'done' || now?.phase === 'done')
            return { outcome: 'done', attempts: now.cutoverAttempts, pauseMs: now.pauseMs };
          if (!now || now.cutoverOutcome === 'aborted' || now.phase === 'copying')
            return { outcome: 'aborted', attempts: now?.cutoverAttempts ?? 0, pauseMs: null };
        }
      },
      { applicationName: 'topsteel-cutover' },
    );
  }
}
