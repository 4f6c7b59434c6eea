import { Client, Connection, Submittable } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CopyFrameScanner } from './copy-frame-scanner';

/** The part of the driver's connection a COPY stream takes over while it reads (as pg-copy-streams does). */
type ConnectionStream = Connection['stream'];
type DataHandler = (chunk: Buffer) => void;

/**
 * COPY TO STDOUT as a stream of raw CopyData messages (see CopyFrameScanner). Built like
 * pg-copy-streams' reader: it takes the socket from the driver's parser while the COPY runs and
 * hands it back, with the bytes after the data, once CopyDone or an error arrives.
 */
export class CopyOutFrames extends Readable implements Submittable {
  readonly scanner = new CopyFrameScanner();
  #connection: Connection | undefined;
  #driverHandler: DataHandler | undefined;
  #wanted = false;
  #forwarding = false;
  readonly #onReadable = () => this.#forward();

  constructor(readonly text: string) {
    super();
  }

  submit(connection: Connection): void {
    this.#connection = connection;
    const socket = connection.stream;
    const handlers = socket.listeners('data') as DataHandler[];
    if (handlers.length !== 1) throw new Error('the connection is not idle: cannot stream a COPY');
    this.#driverHandler = handlers[0];
    socket.removeListener('data', this.#driverHandler);
    socket.pause();
    socket.on('readable', this.#onReadable);
    connection.query(this.text);
  }

  override _read(): void {
    this.#wanted = true;
    this.#forward();
  }

  #forward(): void {
    const socket = this.#connection?.stream;
    if (!socket || this.#forwarding || !this.#wanted) return;
    this.#forwarding = true;
    let chunk: Buffer | null;
    try {
      while (this.#wanted && this.#connection && (chunk = socket.read() as Buffer | null) !== null)
        this.#take(chunk, socket);
    } catch (error) {
      // A stream that cannot be read (a malformed message) fails the relay, not the process.
      this.#connection = undefined;
      this.destroy(error instanceof Error ? error : new Error(String(error)));
    }
    this.#forwarding = false;
  }

  #take(chunk: Buffer, socket: ConnectionStream): void {
    const { frames, end } = this.scanner.scan(chunk);
    for (const frame of frames) this.#wanted = this.push(frame);
    if (!end) return;
    // The driver reads the rest: the command's completion (its row count), or the error it raises.
    socket.removeListener('readable', this.#onReadable);
    const handler = this.#driverHandler;
    this.#connection = undefined;
    socket.addListener('data', handler!);
    handler!(end.rest);
    process.nextTick(() => socket.resume());
    if (!end.error) this.push(null);
  }

  /** The driver replaces this with its query_timeout timer, cleared by calling it (as pg-copy-streams does). */
  callback(): void {}

  handleError(error: Error): void {
    this.callback();
    this.destroy(error);
  }

  handleCommandComplete(): void {}

  handleReadyForQuery(): void {
    this.callback();
  }
}

/**
 * A pg-copy-streams writer that sends what it is given as it is: the chunks are already CopyData
 * messages (CopyOutFrames), so framing them again would nest them. The writer keeps everything
 * else (waiting for CopyInResponse, CopyDone, CopyFail on error, the row count).
 */
function framedCopyIn(text: string): ReturnType<typeof copyFrom> {
  const writer = copyFrom(text) as ReturnType<typeof copyFrom> & {
    flushChunk?: (chunk: Buffer) => boolean;
    connection?: Connection;
  };
  // Pinned pg-copy-streams 7: flushChunk frames one chunk. Refuse to run on a version without it.
  if (typeof writer.flushChunk !== 'function')
    throw new Error('pg-copy-streams changed: its writer has no flushChunk to override');
  writer.flushChunk = (chunk: Buffer) => writer.connection!.stream.write(chunk);
  return writer;
}

/**
 * Streams one COPY TO STDOUT on `source` into one COPY FROM STDIN on `target` (both in binary
 * format), forwarding the messages untouched. `onRows` hears the rows streamed so far, every
 * 10,000 and at the end; the result is the row count the target's COPY reports.
 */
export async function relayCopy(
  source: Client,
  target: Client,
  statements: { copyOut: string; copyIn: string },
  onRows?: (rows: number) => void,
): Promise<{ rows: number }> {
  const writer = target.query(framedCopyIn(statements.copyIn));
  const reader = source.query(new CopyOutFrames(statements.copyOut));
  let reported = 0;
  // Binary format: the first message carries the file header with the first row, the last one only the trailer.
  const streamed = () => Math.max(0, reader.scanner.messages - 1);
  const relayed = pipeline(reader, writer);
  // Listened to once the pipe is in place, so that no chunk can flow before the writer takes it.
  reader.on('data', () => {
    if (streamed() - reported < 10_000) return;
    reported = streamed();
    onRows?.(reported);
  });
  await relayed;
  onRows?.(writer.rowCount);
  return { rows: writer.rowCount };
}
