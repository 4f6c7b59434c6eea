import { maxSocieteCodeLength } from '../../database/config/multi-tenant-database.config';
import { SAFE_IDENTIFIER } from '../../common/identifiers/identifier';
import { DEFAULT_SERVER, SERVER_NAME } from '../../database/config/tenant-servers.config';
import { SocieteException, SocieteExceptionCode } from './societe.exception';

/** `societes.code` is varchar(50); the tenant database name must also fit in 63 characters. */
const CODE_COLUMN_LENGTH = 50;
const NAME_COLUMN_LENGTH = 255;
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HOSTNAME = /^[A-Za-z0-9._:%[\]-]{1,255}$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** What a caller asks for; everything is validated before any SQL runs. */
export type SocieteInput = {
  code: string;
  nom: string;
  /** An explicit id, e.g. for the default société that the split creates before copying data. */
  id?: string;
  /** Another PostgreSQL server for this tenant; empty means the default server (DB_HOST/DB_PORT). */
  host?: string | null;
  port?: number | null;
  /** A server declared in TENANT_SERVERS; `default` (DB_HOST:DB_PORT) when absent. */
  server?: string | null;
};

export type ValidatedSocieteInput = {
  /** Upper-case, as stored in `societes.code`. */
  code: string;
  nom: string;
  id: string | null;
  databaseName: string;
  host: string | null;
  port: number | null;
  /** The server name recorded in `societes.database_server`; null only with an explicit host. */
  server: string | null;
};

/** Shortens user input before echoing it in a message, so a pasted blob never floods the terminal. */
function shown(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

/** The validated code and its tenant database name `<prefix>_<code lower>`. */
export function validateSocieteCode(
  rawCode: string,
  tenantPrefix: string,
): { code: string; databaseName: string } {
  const lowered = rawCode.trim().toLowerCase();
  if (!SAFE_IDENTIFIER.test(lowered)) {
    throw new SocieteException(
      SocieteExceptionCode.InvalidCode,
      `société code ${shown(rawCode)} is not a safe identifier: it must match ${SAFE_IDENTIFIER.source} after lower-casing`,
    );
  }
  const maximum = Math.min(CODE_COLUMN_LENGTH, maxSocieteCodeLength(tenantPrefix));
  if (lowered.length > maximum) {
    throw new SocieteException(
      SocieteExceptionCode.InvalidCode,
      `société code ${shown(rawCode)} is too long: at most ${maximum} characters with DB_TENANT_PREFIX "${tenantPrefix}"`,
    );
  }
  return { code: lowered.toUpperCase(), databaseName: `${tenantPrefix}_${lowered}` };
}

export function validateSocieteInput(input: SocieteInput, tenantPrefix: string): ValidatedSocieteInput {
  const { code, databaseName } = validateSocieteCode(input.code, tenantPrefix);
  const nom = input.nom.trim();
  const invalid = (message: string) => new SocieteException(SocieteExceptionCode.InvalidInput, message);
  if (nom === '' || nom.length > NAME_COLUMN_LENGTH || CONTROL_CHARACTERS.test(nom))
    throw invalid(`société name must be 1 to ${NAME_COLUMN_LENGTH} printable characters`);
  if (input.id !== undefined && !UUID_PATTERN.test(input.id)) throw invalid('société id must be a UUID');
  const host = input.host?.trim() || null;
  if (host !== null && !HOSTNAME.test(host))
    throw invalid('société database host must be a host name or an IP address (not a URL)');
  const port = input.port ?? null;
  if (port !== null && (!Number.isInteger(port) || port < 1 || port > 65535))
    throw invalid('société database port must be an integer between 1 and 65535');
  const named = input.server?.trim() || null;
  if (named !== null && !SERVER_NAME.test(named))
    throw invalid(`server name ${shown(named)} must match ${SERVER_NAME.source}`);
  if (named !== null && (host !== null || port !== null))
    throw invalid('give either a declared server name or a host and port, not both');
  const server = host === null && port === null ? (named ?? DEFAULT_SERVER) : null;
  return { code, nom, id: input.id?.toLowerCase() ?? null, databaseName, host, port, server };
}
