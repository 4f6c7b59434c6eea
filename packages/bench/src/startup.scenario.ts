import { BenchInstallation, CLI, ROOT } from './bench-environment';
import { checked, figure, Figure, run } from './measure';

export type StartupFigures = { npmHelp: Figure; nodeHelp: Figure; nodeStatus: Figure };

/** Cold starts: nothing compiles at invocation time, so these are Node, Nest and commander only. */
export async function startupScenario(
  installation: BenchInstallation,
  runs: number,
): Promise<StartupFigures> {
  const npmHelp: number[] = [];
  const nodeHelp: number[] = [];
  const nodeStatus: number[] = [];
  for (let index = 0; index < runs; index++) {
    npmHelp.push(
      (
        await checked(
          run('npm', ['run', '--silent', '--prefix', ROOT, 'db:status', '--', '--help'], installation.env()),
          'npm run db:status -- --help',
        )
      ).seconds,
    );
    nodeHelp.push(
      (
        await checked(
          run(process.execPath, [CLI, 'status', '--help'], installation.env()),
          'node cli status --help',
        )
      ).seconds,
    );
    nodeStatus.push(
      (await checked(run(process.execPath, [CLI, 'status', '--json'], installation.env()), 'node cli status'))
        .seconds,
    );
  }
  return { npmHelp: figure(npmHelp), nodeHelp: figure(nodeHelp), nodeStatus: figure(nodeStatus) };
}
