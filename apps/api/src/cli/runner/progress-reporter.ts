import { MultiBar, Presets, SingleBar } from 'cli-progress';
import { ProgressTask, RunProgress } from '../../common/run/run-context';
import { CommandOutputService, formatDuration } from './command-output.service';

/**
 * Long steps show progress on stderr: a bar per task with rows/s on a terminal, one line per
 * finished task otherwise (CI logs stay readable and greppable).
 */
export class ProgressReporter implements RunProgress {
  #bars?: MultiBar;

  constructor(private readonly output: CommandOutputService) {}

  task(label: string, total: number, unit = 'rows'): ProgressTask {
    const started = Date.now();
    let bar: SingleBar | undefined;
    if (this.output.interactive) {
      this.#bars ??= new MultiBar(
        {
          format: ' {label} |{bar}| {value}/{total} {unit} | {speed}/s',
          hideCursor: true,
          clearOnComplete: false,
          stopOnComplete: false,
          stream: process.stderr,
          fps: 5,
        },
        Presets.shades_classic,
      );
      bar = this.#bars.create(Math.max(total, 1), 0, {
        label: label.padEnd(34).slice(0, 34),
        unit,
        speed: 0,
      });
    }
    const speed = (done: number) => Math.round(done / Math.max((Date.now() - started) / 1000, 0.001));
    let last = 0;
    return {
      update: (done) => {
        last = done;
        bar?.update(Math.min(done, Math.max(total, 1)), { speed: speed(done) });
      },
      finish: (message) => {
        if (bar) bar.update(Math.max(total, 1), { speed: speed(last || total) });
        else
          this.output.info(
            `  ✔ ${label}: ${message ?? `${total} ${unit}`} in ${formatDuration(Date.now() - started)}`,
          );
      },
      fail: (message) => {
        if (bar) bar.stop();
        this.output.info(`  ✖ ${label}: ${message}`);
      },
    };
  }

  stop(): void {
    this.#bars?.stop();
    this.#bars = undefined;
  }
}
