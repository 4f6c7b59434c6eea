import { BenchInstallation, CLI, ROOT } from './bench-environment';
import { provisionTenants } from './fan-out.scenario';
import { checked, figure, Figure, run } from './measure';

export type StartupFigures = {
  npmHelp: Figure;
  nodeHelp: Figure;
  nodeStatus: Figure;
  /** CPU seconds of db:status: on a busy machine, the wall time mostly says how busy it was. */
  nodeStatusCpu?: Figure;
  tenants: number;
};

/** The bar for db:status: at least this many tenants. */
const STATUS_TENANTS = 30;

/**
 * Cold starts: `--help` (commander and the build's help table only), and db:status over at least
 * 30 tenants (Node, Nest, the status services and one query round per database).
 */
export async function startupScenario(
  installation: BenchInstallation,
  runs: number,
): Promise<StartupFigures> {
  await provisionTenants(installation, STATUS_TENANTS);
  const [societes] = await installation.query<{ count: string }>(
    installation.auth,
    'SELECT count(*) FROM societes',
  );
  const npmHelp: number[] = [];
  const nodeHelp: number[] = [];
  const nodeStatus: number[] = [];
  const nodeStatusCpu: number[] = [];
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
    const status = await checked(
      run(process.execPath, [CLI, 'status', '--json'], installation.env()),
      'node cli status',
    );
    nodeStatus.push(status.seconds);
    nodeStatusCpu.push(status.cpuSeconds);
  }
  return {
    npmHelp: figure(npmHelp),
    nodeHelp: figure(nodeHelp),
    nodeStatus: figure(nodeStatus),
    nodeStatusCpu: figure(nodeStatusCpu),
    tenants: Number(societes.count),
  };
}
