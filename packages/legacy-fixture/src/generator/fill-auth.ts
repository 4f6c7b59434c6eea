import { SPECIAL_USERS } from './known-accounts';
import { TableCounts } from './scale';
import { before, HOSTILE_TEXT, NOMS, pick, PRENOMS, uid } from './sql-helpers';

const literal = (value: string): string => `'${value.replace(/'/g, "''")}'`;

const ROLES = [
  ['ADMIN', 'Administrateur système'],
  ['COMMERCIAL', 'Gestion des clients, devis et commandes'],
  ['OPERATEUR', 'Opérateur atelier'],
  ['TECHNICIEN', 'Maintenance des machines'],
  ['COMPTABLE', 'Facturation et paiements'],
  ['RESPONSABLE_PRODUCTION', 'Planification de la production'],
  ['QUALITE', 'Contrôle qualité'],
  ['LECTEUR', 'Consultation seule'],
] as const;

const MODULES = [
  ['core', 'CORE'],
  ['clients', 'BUSINESS'],
  ['commandes', 'BUSINESS'],
  ['production', 'BUSINESS'],
  ['stocks', 'BUSINESS'],
  ['facturation', 'BUSINESS'],
  ['qualite', 'BUSINESS'],
  ['administration', 'ADMIN'],
  ['rapports', 'REPORTS'],
  ['parametres', 'ADMIN'],
] as const;

const ACTIONS = ['read', 'create', 'update', 'delete', 'export'] as const;

/** Users, RBAC, groups, sessions and MFA. */
export function authStatements(counts: TableCounts): string[] {
  const users = counts.users;
  const specialRows = SPECIAL_USERS.map(
    (user, index) =>
      `(${index + 1}, ${literal(user.nom)}, ${literal(user.prenom)}, ${literal(user.email)}, ${literal(user.password)}, ${literal(user.role)}, ${user.deleted ? 'true' : 'false'})`,
  ).join(',\n');
  const firstGeneric = SPECIAL_USERS.length + 1;

  return [
    `INSERT INTO users (id, nom, prenom, email, password, role, actif, acronyme, dernier_login, version, "refreshToken", metadata, created_at, updated_at, deleted_at)
     SELECT ${uid('users', 'v.i')}, v.nom, v.prenom, v.email, v.password, v.role, NOT v.deleted, 'U' || v.i,
            ${before('v.i', 'hours')}, 1, CASE WHEN v.i = 1 THEN 'rt-' || md5('admin') END,
            jsonb_build_object('source', 'legacy', 'rang', v.i, 'note', ${HOSTILE_TEXT}),
            ${before('v.i * 3 + 400', 'days')}, ${before('v.i', 'days')},
            CASE WHEN v.deleted THEN ${before('40', 'days')} END
     FROM (VALUES ${specialRows}) AS v(i, nom, prenom, email, password, role, deleted)`,

    `INSERT INTO users (id, nom, prenom, email, password, role, actif, acronyme, dernier_login, version, metadata, created_at, updated_at, deleted_at)
     SELECT ${uid('users', 'i')}, ${pick(NOMS, 'i')}, ${pick(PRENOMS, 'i * 7')},
            lower(${pick(PRENOMS, 'i * 7')} || '.' || ${pick(NOMS, 'i')}) || '.' || i || '@topsteel.fr',
            '$2b$10$' || substr(md5('pw' || i) || md5('salt' || i), 1, 53),
            ${pick(['OPERATEUR', 'COMMERCIAL', 'TECHNICIEN', 'COMPTABLE'], 'i')}, i % 23 <> 0, 'U' || i,
            CASE WHEN i % 4 <> 0 THEN ${before('i % 90', 'days')} END, 1 + i % 3,
            CASE WHEN i % 5 = 0 THEN jsonb_build_object('service', 'atelier', 'badge', i) END,
            ${before('400 + i % 900', 'days')}, ${before('i % 200', 'days')},
            CASE WHEN i % 50 = 0 THEN ${before('i % 60', 'days')} END
     FROM generate_series(${firstGeneric}, ${users}) AS i`,

    `INSERT INTO roles (id, name, description, "isSystemRole", "isActive", metadata, "createdAt", "updatedAt", "createdBy", "updatedBy")
     SELECT ${uid('roles', 'r.i')}, r.name, r.description, r.i <= 2, r.i <> 8, json_build_object('niveau', r.i),
            ${before('800', 'days')}::timestamptz, ${before('r.i', 'days')}::timestamptz, ${uid('users', '1')},
            CASE WHEN r.i = 8 THEN ${uid('users', '-1')} END
     FROM (VALUES ${ROLES.map(([name, description], index) => `(${index + 1}, ${literal(name)}, ${literal(description)})`).join(', ')})
          AS r(i, name, description)`,

    `INSERT INTO user_roles (id, "userId", "roleId", "assignedAt", "assignedBy")
     SELECT ${uid('user_roles', 'i')}, ${uid('users', 'i')}, ${uid('roles', 'CASE WHEN i = 1 THEN 1 ELSE 2 + i % 7 END')},
            ${before('i % 300', 'days')}::timestamptz, CASE WHEN i > 1 THEN ${uid('users', '1')} END
     FROM generate_series(1, ${users}) AS i`,

    `INSERT INTO modules (id, name, description, category, icon, "parentModuleId", "isActive", "sortOrder", metadata, "createdAt", "updatedAt")
     SELECT ${uid('modules', 'm.i')}, m.name, 'Module ' || m.name, m.category::module_category, 'icon-' || m.name,
            CASE WHEN m.i > 1 THEN ${uid('modules', '1')} END, true, m.i * 10,
            CASE WHEN m.i % 2 = 0 THEN json_build_object('route', '/' || m.name) END,
            ${before('700', 'days')}::timestamptz, ${before('m.i', 'days')}::timestamptz
     FROM (VALUES ${MODULES.map(([name, category], index) => `(${index + 1}, '${name}', '${category}')`).join(', ')}) AS m(i, name, category)`,

    `INSERT INTO permissions (id, "moduleId", action, name, description, level, "isRequired", conditions, metadata, "createdAt", "updatedAt")
     SELECT ${uid('permissions', '(m - 1) * 5 + a')}, ${uid('modules', 'm')}, (ARRAY['${ACTIONS.join("','")}'])[a],
            'Permission ' || m || '.' || a, 'Autorise l''action ' || a || ' sur le module ' || m,
            (ARRAY['read', 'WRITE', 'WRITE', 'DELETE', 'ADMIN'])[a]::access_level, a = 1,
            CASE WHEN a = 5 THEN json_build_object('maxRows', 10000) END, NULL,
            ${before('700', 'days')}::timestamptz, ${before('m + a', 'days')}::timestamptz
     FROM generate_series(1, ${MODULES.length}) AS m, generate_series(1, ${ACTIONS.length}) AS a`,

    `INSERT INTO role_permissions (id, "roleId", "permissionId", "accessLevel", "isGranted", conditions, "createdAt", metadata, "updatedAt", "grantedBy")
     SELECT ${uid('role_permissions', "r || '-' || p")}, ${uid('roles', 'r')}, ${uid('permissions', 'p')},
            (ARRAY['BLOCKED', 'read', 'WRITE', 'DELETE', 'ADMIN'])[1 + (r + p) % 5]::access_level, (r + p) % 11 <> 0, NULL,
            ${before('600', 'days')}::timestamptz, NULL, CASE WHEN p % 4 <> 0 THEN ${before('p', 'days')}::timestamptz END,
            CASE WHEN p % 2 = 0 THEN ${uid('users', '1')} END
     FROM generate_series(1, ${ROLES.length}) AS r, generate_series(1, ${MODULES.length * ACTIONS.length}) AS p
     WHERE r = 1 OR (r * 7 + p) % 3 = 0`,

    `INSERT INTO groups (id, name, code, description, active, version, created_at, updated_at, deleted_at)
     SELECT ${uid('groups', 'i')}, 'Équipe ' || i, 'EQ' || i, CASE WHEN i % 2 = 1 THEN 'Équipe de production ' || i END,
            i <> 5, 1, ${before('500', 'days')}, ${before('i', 'days')}, CASE WHEN i = 5 THEN ${before('20', 'days')} END
     FROM generate_series(1, 5) AS i`,

    `INSERT INTO user_groups (id, user_id, group_id, version, created_at, updated_at, deleted_at)
     SELECT ${uid('user_groups', 'i')}, ${uid('users', 'i')}, ${uid('groups', '1 + i % 5')}, 1,
            ${before('i % 400', 'days')}, ${before('i % 100', 'days')}, CASE WHEN i % 41 = 0 THEN ${before('3', 'days')} END
     FROM generate_series(1, ${users}) AS i`,

    // Three sessions per user: one active, one ended a month ago, one expired ten days ago.
    `INSERT INTO user_sessions (id, "userId", "sessionId", "accessToken", "refreshToken", "loginTime", "logoutTime", "lastActivity",
                                "ipAddress", "userAgent", "deviceInfo", location, "isActive", "isIdle", status, "warningCount",
                                "forcedLogoutBy", "forcedLogoutReason", metadata, "createdAt", "updatedAt")
     SELECT ${uid('user_sessions', "i || '-' || k")}, ${uid('users', 'i')}, 'sess-' || i || '-' || k, 'at-' || md5('at' || i || k),
            CASE WHEN k = 1 THEN 'rt-' || md5('rt' || i) END,
            CASE k WHEN 1 THEN ${before('60 + i % 600', 'minutes')} WHEN 2 THEN ${before('30 * 24 + 2', 'hours')} ELSE ${before('10 * 24 + 5', 'hours')} END,
            CASE WHEN k = 2 THEN ${before('30', 'days')} END,
            CASE k WHEN 1 THEN ${before('10', 'minutes')} WHEN 2 THEN ${before('30', 'days')} ELSE ${before('10', 'days')} END,
            (CASE WHEN i % 4 = 0 THEN '2001:db8::' || to_hex(i) ELSE '10.0.' || (i / 256) % 256 || '.' || i % 256 END)::inet,
            'Mozilla/5.0 (X11; Linux x86_64) TopSteel/' || k,
            jsonb_build_object('os', 'Linux', 'écran', '1920x1080'), CASE WHEN k = 1 THEN jsonb_build_object('ville', 'Lyon') END,
            k = 1, k = 1 AND i % 7 = 0,
            (CASE WHEN k = 1 THEN 'active' WHEN k = 2 AND i % 10 = 0 THEN 'forced_logout' WHEN k = 2 THEN 'ended' ELSE 'expired' END)::session_status,
            k - 1, CASE WHEN k = 2 AND i % 10 = 0 THEN ${uid('users', '1')} END,
            CASE WHEN k = 2 AND i % 10 = 0 THEN 'Déconnexion forcée par l''administrateur' END, NULL,
            ${before('k * 240 + i % 60', 'hours')}::timestamptz, ${before('k * 24', 'hours')}::timestamptz
     FROM generate_series(1, ${users}) AS i, generate_series(1, 3) AS k`,

    `INSERT INTO user_mfa (id, "userId", type, "isEnabled", "isVerified", secret, "backupCodes", "phoneNumber", email,
                           "webauthnCredentials", metadata, "lastUsedAt", "verifiedAt", "createdAt", "updatedAt")
     SELECT ${uid('user_mfa', "i || '-' || t")}, ${uid('users', 'i')}, (ARRAY['totp', 'email'])[t], true, t = 1,
            CASE WHEN t = 1 THEN upper(substr(md5('secret' || i), 1, 32)) END, CASE WHEN t = 1 THEN md5('backup' || i) END,
            NULL, CASE WHEN t = 2 THEN 'mfa' || i || '@topsteel.fr' END, NULL, NULL,
            ${before('i % 30', 'days')}, ${before('100', 'days')}, ${before('200', 'days')}, ${before('i % 30', 'days')}
     FROM generate_series(1, ${users}) AS i, generate_series(1, 2) AS t
     WHERE i % 3 = 0 AND (t = 1 OR i % 9 = 0)`,

    `INSERT INTO mfa_session (id, "userId", "sessionToken", "mfaType", "isVerified", "isExpired", challenge, "challengeId",
                              "challengeOptions", attempts, "maxAttempts", "ipAddress", "userAgent", "expiresAt", "verifiedAt", "createdAt", "updatedAt")
     SELECT ${uid('mfa_session', 'i')}, ${uid('users', 'i')}, 'mfa-' || md5('mfa' || i), 'totp', i % 10 <> 0, i % 10 = 0,
            NULL, NULL, NULL, i % 3, 5, '10.1.0.' || i % 256, 'Mozilla/5.0',
            CASE WHEN i % 10 = 0 THEN ${before('30', 'days')} ELSE ${before('-10', 'minutes')} END,
            CASE WHEN i % 10 <> 0 THEN ${before('5', 'minutes')} END,
            CASE WHEN i % 10 = 0 THEN ${before('30 * 24 + 1', 'hours')} ELSE ${before('5', 'minutes')} END, ${before('1', 'minutes')}
     FROM generate_series(1, ${users}) AS i
     WHERE i % 5 = 0`,
  ];
}
