import { AddressInfo, connect, createServer, Server, Socket } from 'node:net';
import { freePort } from '../../src/common/embedded/embedded-postgres.server';
import { ConnectionRetry } from '../../src/modules/database/postgres-connection.factory';
import { collectRun, parseJson, runCli, spawnCli } from '../../../../test/harness/cli';
import { TestEnvironment } from '../../../../test/harness/test-environment';
import { testServer } from '../../../../test/harness/test-server';

type Document = { exitCode: number; connectionRetries?: ConnectionRetry[] };

/**
 * A TCP proxy in front of the test server that resets the first `resets` connections, as a pooler
 * restarting or a server in a checkpoint storm would turn them away.
 */
async function startProxy(
  resets: number,
  port = 0,
): Promise<{ port: number; turnedAway: () => number; close: () => Promise<void> }> {
  const server = testServer();
  const sockets = new Set<Socket>();
  let seen = 0;
  const proxy: Server = createServer((socket) => {
    seen += 1;
    if (seen <= resets) {
      socket.resetAndDestroy();
      return;
    }
    const upstream = connect(server.port, server.host);
    for (const end of [socket, upstream]) {
      sockets.add(end);
      end.on('error', () => undefined);
      end.on('close', () => sockets.delete(end));
    }
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
  return {
    port: (proxy.address() as AddressInfo).port,
    turnedAway: () => Math.min(seen, resets),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        proxy.close(() => resolve());
      }),
  };
}

describe('a connection turned away for a moment is retried', () => {
  const environment = TestEnvironment.create('retry');

  beforeAll(() => environment.createMonolith());
  afterAll(() => environment.cleanup());

  it('connects after the first attempts are reset, and the report says it retried', async () => {
    const proxy = await startProxy(3);
    try {
      const result = await runCli(
        ['status', '--json'],
        environment.env({
          DB_HOST: '127.0.0.1',
          DB_PORT: String(proxy.port),
          DB_CONNECT_RETRY_TIMEOUT: '60000',
        }),
      );
      expect(result.code).toBe(0);
      expect(proxy.turnedAway()).toBe(3);
      const document = parseJson<Document>(result);
      expect(document.connectionRetries).toEqual([
        expect.objectContaining({
          attempts: 4,
          recovered: true,
          reasons: ['ECONNRESET', 'ECONNRESET', 'ECONNRESET'],
        }),
      ]);
      expect(result.stderr).toContain('retrying');
      expect(result.stderr).toMatch(/connected after 4 attempts/);
    } finally {
      await proxy.close();
    }
  });

  it('waits for a server that starts late (connection refused), then succeeds', async () => {
    const port = await freePort();
    const child = spawnCli(
      ['status', '--json'],
      environment.env({ DB_HOST: '127.0.0.1', DB_PORT: String(port), DB_CONNECT_RETRY_TIMEOUT: '60000' }),
    );
    let proxy: Awaited<ReturnType<typeof startProxy>> | undefined;
    // The server comes up once the CLI has been refused at least once.
    child.stderr?.on('data', (chunk: Buffer) => {
      if (!proxy && chunk.toString().includes('ECONNREFUSED'))
        void startProxy(0, port).then((started) => (proxy = started));
    });
    try {
      const result = await collectRun(child);
      expect(result.code).toBe(0);
      const [retry] = parseJson<Document>(result).connectionRetries ?? [];
      expect(retry).toMatchObject({ recovered: true });
      expect(retry.reasons[0]).toBe('ECONNREFUSED');
    } finally {
      await proxy?.close();
    }
  });

  it('gives up after DB_CONNECT_RETRY_TIMEOUT, exit 1, and says it retried', async () => {
    const result = await runCli(
      ['status', '--json'],
      environment.env({
        DB_HOST: '127.0.0.1',
        DB_PORT: String(await freePort()),
        DB_CONNECT_RETRY_TIMEOUT: '1500',
      }),
    );
    expect(result.code).toBe(1);
    const document = parseJson<Document & { error: { code: string } }>(result);
    expect(document.error.code).toBe('UNREACHABLE');
    expect(document.connectionRetries?.[0]).toMatchObject({ recovered: false });
    expect(document.connectionRetries?.[0].attempts).toBeGreaterThan(1);
  });

  it('never retries a configuration mistake (a database that does not exist)', async () => {
    const proxy = await startProxy(0);
    try {
      const result = await runCli(
        ['status', '--json'],
        environment.env({
          DB_HOST: '127.0.0.1',
          DB_PORT: String(proxy.port),
          DB_MAINTENANCE_NAME: 'no_such_database_here',
          DB_CONNECT_RETRY_TIMEOUT: '60000',
        }),
      );
      expect(result.code).not.toBe(0);
      expect(parseJson<Document>(result).connectionRetries).toBeUndefined();
      expect(result.stderr).not.toContain('retrying');
    } finally {
      await proxy.close();
    }
  });
});
