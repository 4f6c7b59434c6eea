import { Terminal } from '@xterm/headless';
import { spawn } from 'node:child_process';
import { CLI_ENTRY, REPOSITORY_ROOT, runCli } from '../../../../test/harness/cli';
import { fakeToolFolder } from '../../../../test/harness/fake-tools';
import { TestEnvironment } from '../../../../test/harness/test-environment';

/** Runs the CLI under a pseudo-terminal (util-linux `script`), returning everything the terminal received. */
function runInTerminal(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, CLI_ENTRY, ...args].map((part) => `'${part}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: REPOSITORY_ROOT,
    env: { ...env, COLUMNS: '120', LINES: '30' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let screen = '';
  child.stdout.on('data', (chunk: Buffer) => (screen += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, screen })));
}

/** What a person sees after the run: the terminal's scrollback and screen, as rendered text lines. */
async function render(stream: string): Promise<string[]> {
  const terminal = new Terminal({ cols: 120, rows: 30, scrollback: 10000, allowProposedApi: true });
  await new Promise<void>((resolve) => terminal.write(stream.replace(/\r?\n/g, '\r\n'), resolve));
  const lines: string[] = [];
  for (let index = 0; index < terminal.buffer.active.length; index += 1)
    lines.push(terminal.buffer.active.getLine(index)?.translateToString(true) ?? '');
  terminal.dispose();
  return lines.filter((line) => line.trim() !== '');
}

describe('progress on stderr', () => {
  const environment = TestEnvironment.create('progress');

  beforeAll(() => environment.createMonolith());
  afterAll(() => environment.cleanup());

  it('on a terminal, leaves one ✔ line per copied table and no table named twice', async () => {
    const run = await runInTerminal(['migrate'], environment.env({ CI: undefined, TERM: 'xterm-256color' }));
    expect(run.code).toBe(0);
    expect(run.screen).toMatch(/\d+% .* \| ETA /);
    const lines = await render(run.screen);
    const copied = lines.filter((line) => /^\s*✔ (auth|shared|tenant)\./.test(line));
    const tables = copied.map((line) => /✔ (\S+?):/.exec(line)?.[1]);
    expect(tables.length).toBeGreaterThan(50);
    expect(new Set(tables).size).toBe(tables.length);
    for (const table of tables) expect(lines.filter((line) => line.includes(`${table}:`)).length).toBe(1);
    expect(lines.some((line) => /\|[█░ ]+\|/.test(line))).toBe(false);
  });

  it('off a terminal, prints a heartbeat while a step runs', async () => {
    const target = TestEnvironment.create('heartbeat');
    try {
      await target.createMonolith();
      const result = await runCli(['backup'], target.env({ CI: 'true', TOPSTEEL_HEARTBEAT_MS: '50' }));
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(/… .*(still running after|\d+% \()/);
    } finally {
      await target.cleanup();
    }
  });

  it('off a terminal, the backup heartbeat says how many bytes pg_dump has written', async () => {
    const target = TestEnvironment.create('dumpbytes');
    try {
      await target.createMonolith();
      // pg_dump lingers a second after writing its archive, so heartbeats land while it still runs.
      const bin = fakeToolFolder(target.root, { pg_dump: 'slow-exit' });
      const result = await runCli(
        ['backup', '--monolith-only'],
        target.env({ CI: 'true', TOPSTEEL_HEARTBEAT_MS: '50', PG_BIN_DIR: bin }),
      );
      expect([result.code, result.code === 0 ? '' : result.stderr]).toEqual([0, '']);
      const written = [
        ...result.stderr.matchAll(
          new RegExp(`… backup ${target.names.monolith}: \\d+% \\((\\d+)/(\\d+) bytes`, 'g'),
        ),
      ];
      expect(written.length).toBeGreaterThan(0);
      expect(Number(written.at(-1)?.[1])).toBeGreaterThan(0);
    } finally {
      await target.cleanup();
    }
  });

  it("the split's verification and db:verify count the tables they checksum, per database", async () => {
    const target = TestEnvironment.create('verifyprog');
    try {
      await target.createMonolith();
      const env = target.env({ CI: 'true' });
      const names = target.names;
      const databases = [names.monolith, names.auth, names.shared, names.defaultTenant];
      const migrate = await runCli(['migrate'], env);
      expect(migrate.code).toBe(0);
      const verify = await runCli(['verify'], env);
      expect(verify.code).toBe(0);
      for (const output of [migrate.stderr, verify.stderr])
        for (const database of databases)
          expect(output).toMatch(new RegExp(`✔ verify ${database}: [1-9]\\d* tables checksummed`));
    } finally {
      await target.cleanup();
    }
  });
});
