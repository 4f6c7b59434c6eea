import { Injectable } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConnectionOpenerService } from '../../modules/database/connection-opener.service';
import { DataMode, DataModeService } from '../../modules/database/data-mode.service';

/** What anybody may learn without a token: whether the app can serve, in which mode, which version. */
export type HealthProbe = { status: 'ok' | 'down'; mode: DataMode; version: string };

/**
 * How long one probe's answer is reused. Load balancers poll every few seconds; a storm of probes
 * must cost the databases one query per pool per period, not one per request.
 */
export const HEALTH_CACHE_MS = 2000;

/** apps/api/package.json, from src/http/health (tests) and dist/http/health (the app) alike. */
function applicationVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    return typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * The public GET /health. It pings the databases the app cannot work without (AUTH and SHARED, or
 * the monolith) through their pools, never a tenant and never a new unpooled connection; concurrent
 * callers share one probe in flight, and its answer is cached for HEALTH_CACHE_MS.
 */
@Injectable()
export class HealthProbeService {
  readonly #version = applicationVersion();
  #cached?: { probe: HealthProbe; until: number };
  #inFlight?: Promise<HealthProbe>;

  constructor(
    private readonly dataMode: DataModeService,
    private readonly opener: ConnectionOpenerService,
  ) {}

  probe(): Promise<HealthProbe> {
    if (this.#cached && this.#cached.until > Date.now()) return Promise.resolve(this.#cached.probe);
    this.#inFlight ??= this.check().finally(() => (this.#inFlight = undefined));
    return this.#inFlight;
  }

  private async check(): Promise<HealthProbe> {
    const required = this.dataMode.isMonolith
      ? [this.dataMode.monolith()]
      : [this.opener.open('auth'), this.opener.open('shared')];
    const reachable = await Promise.all(
      required.map(async (pending) => {
        try {
          await (await pending).query('SELECT 1');
          return true;
        } catch {
          return false;
        }
      }),
    );
    const probe: HealthProbe = {
      status: reachable.every(Boolean) ? 'ok' : 'down',
      mode: this.dataMode.mode,
      version: this.#version,
    };
    this.#cached = { probe, until: Date.now() + HEALTH_CACHE_MS };
    return probe;
  }
}
