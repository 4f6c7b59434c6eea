import { ClientConfig } from 'pg';
import { LogicalReplicationService, Pgoutput, PgoutputPlugin } from 'pg-logical-replication';
import { DecodedChange, RelationInfo } from './change-applier';

export type StreamEvent =
  | { kind: 'begin'; commitLsn: string; commitTimeMs: number }
  | { kind: 'change'; change: DecodedChange }
  | { kind: 'commit'; commitLsn: string; endLsn: string; commitTimeMs: number }
  | { kind: 'message'; prefix: string; content: string; transactional: boolean };

/**
 * pgoutput with the values left as PostgreSQL's text: the driver's parsers would turn timestamps
 * into JavaScript dates (milliseconds) and numbers into floats. The relation's columns are reset as
 * soon as its message is parsed, before any row of it is.
 */
class TextPgoutputPlugin extends PgoutputPlugin {
  override parse(buffer: Buffer): Pgoutput.Message {
    const message = super.parse(buffer);
    if (message.tag === 'relation')
      for (const column of message.columns) column.parser = (raw: unknown) => raw;
    return message;
  }
}

const relationInfo = (relation: Pgoutput.MessageRelation): RelationInfo => ({
  name: relation.name,
  replicaIdentity: relation.replicaIdentity,
  keyColumns: relation.keyColumns,
});

const microsToMs = (micros: bigint): number => Number(micros / 1000n);

type TextRow = Record<string, string | null | undefined>;

function toEvent(message: Pgoutput.Message): StreamEvent | null {
  switch (message.tag) {
    case 'begin':
      return {
        kind: 'begin',
        commitLsn: message.commitLsn ?? '0/0',
        commitTimeMs: microsToMs(message.commitTime as bigint),
      };
    case 'commit':
      return {
        kind: 'commit',
        commitLsn: message.commitLsn ?? '0/0',
        endLsn: message.commitEndLsn ?? '0/0',
        commitTimeMs: microsToMs(message.commitTime as bigint),
      };
    case 'insert':
      return {
        kind: 'change',
        change: { kind: 'insert', relation: relationInfo(message.relation), values: message.new as TextRow },
      };
    case 'update':
      return {
        kind: 'change',
        change: {
          kind: 'update',
          relation: relationInfo(message.relation),
          key: message.key as TextRow | null,
          old: message.old as TextRow | null,
          values: message.new as TextRow,
        },
      };
    case 'delete':
      return {
        kind: 'change',
        change: {
          kind: 'delete',
          relation: relationInfo(message.relation),
          key: message.key as TextRow | null,
          old: message.old as TextRow | null,
        },
      };
    case 'truncate':
      return {
        kind: 'change',
        change: {
          kind: 'truncate',
          relations: message.relations.map(relationInfo),
          cascade: message.cascade,
        },
      };
    case 'message':
      return {
        kind: 'message',
        prefix: message.prefix,
        content: Buffer.from(message.content).toString('utf8'),
        transactional: message.transactional,
      };
    default:
      return null;
  }
}

/**
 * Decodes pgoutput messages read from a slot through SQL (pg_logical_slot_peek_binary_changes), in
 * order: a relation's message comes before its rows, as on the stream.
 */
export function decodeMessages(publication: string, messages: Buffer[]): StreamEvent[] {
  const plugin = new TextPgoutputPlugin({ protoVersion: 1, publicationNames: [publication] });
  return messages.map((message) => toEvent(plugin.parse(message))).filter((event) => event !== null);
}

/**
 * The slot's changes, one event at a time: the next is not read before the handler's promise
 * settles (flow control), and nothing is acknowledged unless `acknowledge` is called. The library's
 * periodic acknowledgement is off too: it would confirm positions the targets do not hold yet.
 */
export class ChangeStream {
  private readonly service: LogicalReplicationService;
  private acknowledged: string | null = null;

  constructor(config: ClientConfig) {
    this.service = new LogicalReplicationService(config, {
      acknowledge: { auto: false, timeoutSeconds: 0 },
      flowControl: { enabled: true },
    });
  }

  /** Streams from the slot's confirmed position until stop() or an error (rejects). */
  run(slot: string, publication: string, handler: (event: StreamEvent) => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.service.on('data', async (_lsn: string, message: Pgoutput.Message) => {
        const event = toEvent(message);
        if (event) await handler(event);
      });
      this.service.on('error', (error: Error) => {
        void this.service.stop().catch(() => undefined);
        reject(error);
      });
      // The server asks for a reply now and then; it gets the last position the targets committed.
      this.service.on('heartbeat', async (_lsn: string, _timestamp: number, shouldRespond: boolean) => {
        if (shouldRespond && this.acknowledged) await this.service.acknowledge(this.acknowledged);
      });
      const plugin = new TextPgoutputPlugin({
        protoVersion: 1,
        publicationNames: [publication],
        messages: true,
      });
      this.service.subscribe(plugin, slot).then(() => resolve(), reject);
    });
  }

  async acknowledge(lsn: string): Promise<void> {
    this.acknowledged = lsn;
    await this.service.acknowledge(lsn);
  }

  async stop(): Promise<void> {
    await this.service.stop().catch(() => undefined);
  }
}
