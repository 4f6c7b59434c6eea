import { AddressInfo, createConnection, createServer, Server, Socket } from 'node:net';

/** What a client asked for in its startup message. */
export type RecordedStartup = { database: string; user: string; applicationName: string };

const PROTOCOL_3 = 196608;
/** SSLRequest and GSSENCRequest: the real startup message follows the server's one-byte answer. */
const NEGOTIATION_CODES = new Set([80877103, 80877104]);

/**
 * A TCP relay in front of the real test server that writes down the database of every connection a
 * client opens, including attempts the server refuses (a database that does not exist), which
 * pg_stat_activity never shows. Bytes are relayed untouched: it observes, it does not answer.
 */
export class ConnectionRecorder {
  readonly startups: RecordedStartup[] = [];
  readonly #sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(target: { host: string; port: number }): Promise<ConnectionRecorder> {
    const server = createServer();
    const recorder = new ConnectionRecorder(server);
    server.on('connection', (client) => recorder.relay(client, target));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return recorder;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  databases(): string[] {
    return this.startups.map((startup) => startup.database);
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: Socket, target: { host: string; port: number }): void {
    const upstream = createConnection(target.port, target.host);
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    let pending: Buffer | null = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      if (pending) pending = this.readStartup(Buffer.concat([pending, chunk]));
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
  }

  /** Returns the bytes still to parse, or null once the startup message was read. */
  private readStartup(buffer: Buffer): Buffer | null {
    let offset = 0;
    while (buffer.length - offset >= 8) {
      const length = buffer.readInt32BE(offset);
      const code = buffer.readInt32BE(offset + 4);
      if (buffer.length - offset < length) break;
      if (NEGOTIATION_CODES.has(code)) {
        offset += length;
        continue;
      }
      if (code === PROTOCOL_3)
        this.startups.push(parseParameters(buffer.subarray(offset + 8, offset + length)));
      return null;
    }
    return buffer.subarray(offset);
  }
}

function parseParameters(body: Buffer): RecordedStartup {
  const parts = body.toString('utf8').split('\0');
  const parameters = new Map<string, string>();
  for (let index = 0; index + 1 < parts.length && parts[index] !== ''; index += 2)
    parameters.set(parts[index], parts[index + 1]);
  const user = parameters.get('user') ?? '';
  return {
    database: parameters.get('database') ?? user,
    user,
    applicationName: parameters.get('application_name') ?? '',
  };
}
