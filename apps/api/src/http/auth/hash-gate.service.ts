import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../app-config';
import { TooManyRequestsException } from './login-throttle.service';

/**
 * Bounds the bcrypt work of logins: LOGIN_MAX_CONCURRENT_HASHES at once, LOGIN_MAX_QUEUED_HASHES
 * waiting, and 429 for the rest, so that a login flood cannot take the CPU from every other request
 * (bcryptjs hashes on the event loop's thread).
 */
@Injectable()
export class HashGateService {
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    const { maxConcurrentHashes, maxQueuedHashes } = this.config.login;
    if (this.#running >= maxConcurrentHashes) {
      if (this.#waiting.length >= maxQueuedHashes)
        throw new TooManyRequestsException('too many logins in progress; retry in a moment', 1);
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running += 1;
    }
    try {
      return await work();
    } finally {
      // The slot passes straight to the next waiter, if any.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running -= 1;
    }
  }
}
