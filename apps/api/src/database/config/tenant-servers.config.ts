import { Secret } from '../../common/secrets/secret';
import { EnvironmentReader, HOSTNAME } from './environment-reader';

/** A PostgreSQL server that may hold tenant databases, as the operator declared it. */
export type TenantServer = {
  name: string;
  host: string;
  port: number;
  username: string;
  password: Secret;
};

/** The server of DB_HOST:DB_PORT, always present. */
export const DEFAULT_SERVER = 'default';
export const SERVER_NAME = /^[a-z][a-z0-9_]{0,30}$/;

type DefaultServer = Omit<TenantServer, 'name'>;

/**
 * `TENANT_SERVERS=name=host:port,…` plus the default server. Problems name the variable and the
 * position of the entry, never its text: an operator may paste a URL with a password by mistake.
 */
export function readTenantServers(reader: EnvironmentReader, defaults: DefaultServer): TenantServer[] {
  const servers: TenantServer[] = [{ name: DEFAULT_SERVER, ...defaults }];
  const raw = reader.text('TENANT_SERVERS', '');
  const entries = raw === '' ? [] : raw.split(',').map((entry) => entry.trim());
  entries.forEach((entry, index) => {
    const position = `entry ${index + 1}`;
    const match = /^([^=]*)=(.*):(\d{1,5})$/.exec(entry);
    if (!match) {
      reader.problem('TENANT_SERVERS', `${position} must be name=host:port`);
      return;
    }
    const [, name, host, portText] = match;
    const port = Number(portText);
    if (!SERVER_NAME.test(name)) {
      reader.problem('TENANT_SERVERS', `${position}: the server name must match ${SERVER_NAME.source}`);
      return;
    }
    if (name === DEFAULT_SERVER) {
      reader.problem('TENANT_SERVERS', `${position} redefines "default", which is always DB_HOST:DB_PORT`);
      return;
    }
    if (servers.some((server) => server.name === name)) {
      reader.problem('TENANT_SERVERS', `${position} declares the server "${name}" a second time`);
      return;
    }
    const bareHost = host.replace(/^\[(.*)\]$/, '$1');
    if (!HOSTNAME.test(bareHost) || bareHost.includes('@') || port < 1 || port > 65535) {
      reader.problem(
        'TENANT_SERVERS',
        `${position} (server "${name}") must have a host name or IP and a port 1-65535`,
      );
      return;
    }
    const prefix = `TENANT_SERVER_${name.toUpperCase()}`;
    const username = reader.text(`${prefix}_USERNAME`, defaults.username);
    if (/[\s@/:]/.test(username)) reader.problem(`${prefix}_USERNAME`, 'must be a role name');
    const password = reader.raw(`${prefix}_PASSWORD`);
    servers.push({
      name,
      host: bareHost,
      port,
      username,
      password: password === undefined ? defaults.password : new Secret(password),
    });
  });
  return servers;
}
