import { HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../app-config';
import type { RetryAfter } from '../http-exception.filter';

/** 429 with Retry-After; the same answer whether or not the e-mail belongs to an account. */
export class TooManyRequestsException extends HttpException implements RetryAfter {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message, HttpStatus.TOO_MANY_REQUESTS);
  }
}

/** Keys kept at most: a flood of invented e-mails evicts the oldest counters instead of growing memory. */
const MAX_TRACKED_KEYS = 100_000;

/**
 * Failed logins per e-mail and per client address in a sliding window (LOGIN_FAILURE_WINDOW_SECONDS):
 * at the limit, further attempts get 429 with Retry-After before any password is hashed. A success
 * clears the e-mail's failures, never the address's (else an attacker could interleave logins to
 * their own account). Held in memory, per app instance.
 *
 * Not @nestjs/throttler: its guard counts every request before the handler runs, so it cannot count
 * only failures, and its storage interface has `increment` only (no read without counting, no reset),
 * so "a success resets the e-mail's counter" cannot be built on it without its private internals.
 */
@Injectable()
export class LoginThrottleService {
  /** Failure times per key (oldest first, at most the key's limit), in insertion order for eviction. */
  readonly #failures = new Map<string, number[]>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Throws 429 when the e-mail or the address has used up its failures. */
  assertAllowed(email: string, address: string, now = Date.now()): void {
    const limits = this.config.login;
    const wait = Math.max(
      this.secondsUntilAllowed(this.emailKey(email), limits.maxFailuresPerEmail, now),
      this.secondsUntilAllowed(this.addressKey(address), limits.maxFailuresPerAddress, now),
    );
    if (wait > 0) throw new TooManyRequestsException('too many failed logins; retry later', wait);
  }

  recordFailure(email: string, address: string, now = Date.now()): void {
    const limits = this.config.login;
    this.add(this.emailKey(email), limits.maxFailuresPerEmail, now);
    this.add(this.addressKey(address), limits.maxFailuresPerAddress, now);
  }

  recordSuccess(email: string): void {
    this.#failures.delete(this.emailKey(email));
  }

  private emailKey(email: string): string {
    return `email:${email.trim().toLowerCase()}`;
  }

  private addressKey(address: string): string {
    return `address:${address}`;
  }

  private secondsUntilAllowed(key: string, limit: number, now: number): number {
    const times = this.live(key, now);
    if (times.length < limit) return 0;
    // Allowed again when the oldest failure that counts towards the limit leaves the window.
    const oldest = times[times.length - limit];
    return Math.max(1, Math.ceil((oldest + this.config.login.failureWindowSeconds * 1000 - now) / 1000));
  }

  private add(key: string, limit: number, now: number): void {
    const times = this.live(key, now);
    times.push(now);
    this.#failures.delete(key);
    this.#failures.set(key, times.slice(-limit));
    if (this.#failures.size > MAX_TRACKED_KEYS) this.evict(now);
  }

  /** The key's failures still inside the window. */
  private live(key: string, now: number): number[] {
    const start = now - this.config.login.failureWindowSeconds * 1000;
    return (this.#failures.get(key) ?? []).filter((time) => time > start);
  }

  private evict(now: number): void {
    for (const key of this.#failures.keys()) {
      if (this.live(key, now).length === 0) this.#failures.delete(key);
    }
    for (const key of this.#failures.keys()) {
      if (this.#failures.size <= MAX_TRACKED_KEYS) break;
      this.#failures.delete(key);
    }
  }
}
