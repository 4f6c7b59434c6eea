/**
 * At most `perServer` tasks at once on each server (TENANT_SERVER_MAX_CONNECTIONS), on top of the
 * runner's overall concurrency. A task waits for a free slot of its own server only.
 */
export class ServerSlots {
  readonly #busy = new Map<string, number>();
  readonly #waiting = new Map<string, (() => void)[]>();
  /** Highest number of tasks seen at once per server, for the report (and the benchmark's cap check). */
  readonly peak = new Map<string, number>();

  constructor(private readonly perServer: number) {}

  async with<T>(server: string, work: () => Promise<T>): Promise<T> {
    while ((this.#busy.get(server) ?? 0) >= this.perServer) {
      await new Promise<void>((resolve) => {
        const queue = this.#waiting.get(server) ?? [];
        queue.push(resolve);
        this.#waiting.set(server, queue);
      });
    }
    const busy = (this.#busy.get(server) ?? 0) + 1;
    this.#busy.set(server, busy);
    this.peak.set(server, Math.max(this.peak.get(server) ?? 0, busy));
    try {
      return await work();
    } finally {
      this.#busy.set(server, (this.#busy.get(server) ?? 1) - 1);
      this.#waiting.get(server)?.shift()?.();
    }
  }
}

/** Items ordered so that consecutive ones are on different servers: workers rarely wait on one server. */
export function interleaveByServer<Item extends { server: string }>(items: Item[]): Item[] {
  const queues = new Map<string, Item[]>();
  for (const item of items) queues.set(item.server, [...(queues.get(item.server) ?? []), item]);
  const result: Item[] = [];
  while (result.length < items.length) {
    for (const queue of queues.values()) {
      const item = queue.shift();
      if (item) result.push(item);
    }
  }
  return result;
}
