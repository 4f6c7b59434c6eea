import type { MultiBar, SingleBar } from 'cli-progress';
import { ProgressTask, RunProgress } from '../../common/run/run-context';
import { CommandOutputService, formatDuration } from './command-output.service';

/** More live bars than this scroll a short terminal; the rest wait for a free line. */
const MAX_LIVE_BARS = 4;

/** Off a terminal, a line at least this often while anything runs, so a long table never looks like a hang. */
export const HEARTBEAT_MS =
  Number(process.env.TOPSTEEL_HEARTBEAT_MS) > 0 ? Number(process.env.TOPSTEEL_HEARTBEAT_MS) : 10_000;

type TaskState = {
  label: string;
  total: number;
  unit: string;
  done: number;
  started: number;
  bar?: SingleBar;
};

const perSecond = (state: TaskState): number =>
  Math.round(state.done / Math.max((Date.now() - state.started) / 1000, 0.001));

const percent = (state: TaskState): number =>
  state.total > 0 ? Math.min(100, Math.floor((100 * state.done) / state.total)) : 0;

/**
 * Long steps show progress on stderr. On a terminal: at most four live bars with %, rate and ETA;
 * a finished task collapses to one ✔ line above them, so the scrollback holds each table once.
 * Elsewhere (CI, pipes): one ✔ line per finished task and a heartbeat line every 10 s.
 */
export class ProgressReporter implements RunProgress {
  #bars?: MultiBar;
  readonly #active = new Set<TaskState>();
  readonly #waiting: TaskState[] = [];
  #heartbeat?: NodeJS.Timeout;

  constructor(private readonly output: CommandOutputService) {}

  /** Tasks started and not yet finished (the step heartbeat stays quiet while there are some). */
  get activeCount(): number {
    return this.#active.size;
  }

  task(label: string, total: number, unit = 'rows'): ProgressTask {
    const state: TaskState = { label, total, unit, done: 0, started: Date.now() };
    this.#active.add(state);
    if (this.output.interactive) this.attachBar(state);
    else this.startHeartbeat();
    return {
      update: (done) => {
        state.done = done;
        state.bar?.update(Math.min(done, Math.max(total, 1)), { speed: perSecond(state) });
      },
      finish: (message) =>
        this.end(
          state,
          `  ✔ ${label}: ${message ?? `${total} ${unit}`} in ${formatDuration(Date.now() - state.started)}`,
        ),
      fail: (message) => this.end(state, `  ✖ ${label}: ${message}`),
    };
  }

  stop(): void {
    this.#bars?.stop();
    this.#bars = undefined;
    this.#active.clear();
    this.#waiting.length = 0;
    this.stopHeartbeat();
  }

  private attachBar(state: TaskState): void {
    const live = [...this.#active].filter((task) => task.bar).length;
    if (live >= MAX_LIVE_BARS) {
      this.#waiting.push(state);
      return;
    }
    // Loaded with the first bar: a command whose stderr is not a terminal (scripts, the bench) never draws one.
    const { MultiBar, Presets } = require('cli-progress') as typeof import('cli-progress');
    this.#bars ??= new MultiBar(
      {
        format: ' {label} |{bar}| {percentage}% {value}/{total} {unit} | {speed}/s | ETA {eta_formatted}',
        hideCursor: true,
        clearOnComplete: true,
        stopOnComplete: false,
        stream: process.stderr,
        fps: 5,
        etaBuffer: 50,
      },
      Presets.shades_classic,
    );
    state.bar = this.#bars.create(Math.max(state.total, 1), state.done, {
      label: state.label.padEnd(34).slice(0, 34),
      unit: state.unit,
      speed: 0,
    });
  }

  private end(state: TaskState, line: string): void {
    if (!this.#active.delete(state)) return;
    const waiting = this.#waiting.indexOf(state);
    if (waiting >= 0) this.#waiting.splice(waiting, 1);
    if (state.bar && this.#bars) {
      this.#bars.remove(state.bar);
      state.bar = undefined;
    }
    if (this.#bars) this.#bars.log(`${line}\n`);
    else this.output.info(line);
    const next = this.#waiting.shift();
    if (next) this.attachBar(next);
    if (this.#active.size === 0) {
      this.#bars?.stop();
      this.#bars = undefined;
      this.stopHeartbeat();
    }
  }

  private startHeartbeat(): void {
    if (this.#heartbeat) return;
    this.#heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  private beat(): void {
    const tasks = [...this.#active];
    for (const state of tasks.slice(0, MAX_LIVE_BARS))
      this.output.info(
        `  … ${state.label}: ${percent(state)}% (${state.done}/${state.total} ${state.unit}, ${perSecond(state)} ${state.unit}/s)`,
      );
    if (tasks.length > MAX_LIVE_BARS)
      this.output.info(`  … and ${tasks.length - MAX_LIVE_BARS} more running`);
  }
}
