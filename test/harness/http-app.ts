import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../apps/api/src/common/embedded/embedded-postgres.server';
import { REPOSITORY_ROOT } from './cli';

export const APP_ENTRY = join(REPOSITORY_ROOT, 'apps', 'api', 'dist', 'main.js');
export const TEST_JWT_SECRET = 'test-only-jwt-secret-0123456789abcdef';

export type HttpResponse<T = Record<string, unknown>> = { status: number; body: T; headers: Headers };

export type RequestOptions = {
  method?: string;
  token?: string;
  societe?: string;
  body?: unknown;
  headers?: Record<string, string>;
};

/** The HTTP app (`node apps/api/dist/main.js`) as a child process on a free loopback port. */
export class RunningApp {
  stderr = '';

  private constructor(
    readonly child: ChildProcess,
    readonly baseUrl: string,
  ) {
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
  }

  /** Starts the app and waits until it answers /health (any status), or fails with its stderr. */
  static async start(env: NodeJS.ProcessEnv, timeoutMs = 20000): Promise<RunningApp> {
    const port = await freePort();
    const child = spawn(process.execPath, [APP_ENTRY], {
      cwd: REPOSITORY_ROOT,
      env: { JWT_SECRET: TEST_JWT_SECRET, PORT: String(port), HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const app = new RunningApp(child, `http://127.0.0.1:${port}`);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`the app exited with ${child.exitCode}:\n${app.stderr}`);
      try {
        await fetch(`${app.baseUrl}/health`);
        return app;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    await app.stop();
    throw new Error(`the app did not answer within ${timeoutMs} ms:\n${app.stderr}`);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  async request<T = Record<string, unknown>>(
    path: string,
    options: RequestOptions = {},
  ): Promise<HttpResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.societe) headers['x-societe-id'] = options.societe;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.baseUrl}${path}`, {
      method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as T, headers: response.headers };
  }

  async login(email: string, password: string, societe?: string): Promise<string> {
    const response = await this.request<{ accessToken: string }>('/auth/login', {
      body: { email, password, societe },
    });
    if (response.status !== 200)
      throw new Error(`login failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.accessToken;
  }

  /** SIGTERM, then the exit code (or signal) once it is gone. */
  async stop(): Promise<number | string | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const exited = new Promise<number | string | null>((resolve) =>
      this.child.once('exit', (code, signal) => resolve(code ?? signal)),
    );
    this.child.kill('SIGTERM');
    return exited;
  }
}
