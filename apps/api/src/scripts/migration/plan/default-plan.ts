import { SchemaKind } from '../../../database/migrations/migration-sets';
import {
  AddedColumn,
  CutReference,
  ExcludedTable,
  MigrationPlan,
  NewTable,
  PlannedTable,
} from './plan.types';

const SOCIETE_ID: AddedColumn = {
  name: 'societe_id',
  type: 'uuid',
  fill: { kind: 'societe-id' },
  rule: 'the id of the société whose tenant database receives the row (the default société on the first split)',
};

/**
 * user_sessions.expires_at, derived from the legacy session columns:
 *  - a session that was logged out expires at its "logoutTime";
 *  - a session already ended, expired or forced out (status <> 'active' or "isActive" false) expired at its "lastActivity";
 *  - an active session expires 24 hours after its "lastActivity" (the legacy idle timeout).
 */
export const SESSION_EXPIRY_SQL = `CASE WHEN "logoutTime" IS NOT NULL THEN "logoutTime"
     WHEN status <> 'active' OR NOT "isActive" THEN "lastActivity"
     ELSE "lastActivity" + interval '24 hours' END`;

const EXPIRES_AT: AddedColumn = {
  name: 'expires_at',
  type: 'timestamp without time zone',
  fill: { kind: 'expression', sql: SESSION_EXPIRY_SQL },
  rule: 'logoutTime when set; else lastActivity for sessions no longer active; else lastActivity + 24 h',
};

const table = (
  database: SchemaKind,
  source: string,
  target = source,
  addedColumns: AddedColumn[] = [],
): PlannedTable => ({
  source,
  target,
  database,
  addedColumns: database === 'tenant' ? [SOCIETE_ID, ...addedColumns] : addedColumns,
});

/** Parents before children: the order in which a reader of the plan can think of the copy. */
const TABLES: PlannedTable[] = [
  // AUTH: users, RBAC, sessions, MFA, menus, preferences, settings.
  table('auth', 'users'),
  table('auth', 'roles'),
  table('auth', 'user_roles'),
  table('auth', 'modules'),
  table('auth', 'permissions'),
  table('auth', 'role_permissions'),
  table('auth', 'groups'),
  table('auth', 'user_groups'),
  table('auth', 'user_sessions', 'user_sessions', [EXPIRES_AT]),
  table('auth', 'user_mfa'),
  table('auth', 'mfa_session'),
  table('auth', 'user_settings'),
  table('auth', 'user_settings_backup'),
  table('auth', 'menu_configurations'),
  table('auth', 'menu_items'),
  table('auth', 'menu_item_roles'),
  table('auth', 'menu_item_permissions'),
  table('auth', 'user_menu_preferences'),
  table('auth', 'user_menu_preferences_admin'),
  table('auth', 'user_menu_preferences_old'),
  table('auth', 'user_menu_item_preferences'),
  table('auth', 'datatable_hierarchical_preferences'),
  table('auth', 'datatable_hierarchy_order'),
  table('auth', 'ui_preferences_reorderable_list'),
  table('auth', 'notification_settings'),
  // SHARED: reference data common to every société.
  table('shared', 'materiaux', 'shared_materials'),
  table('shared', 'system_parameters'),
  table('shared', 'system_settings'),
  table('shared', 'discovered_pages'),
  table('shared', 'notification_templates'),
  // TENANT: one société's business data.
  table('tenant', 'fournisseurs'),
  table('tenant', 'clients'),
  table('tenant', 'projets'),
  table('tenant', 'devis'),
  table('tenant', 'produits'),
  table('tenant', 'ligne_devis'),
  table('tenant', 'commandes'),
  table('tenant', 'facturation'),
  table('tenant', 'stocks'),
  table('tenant', 'chutes'),
  table('tenant', 'machines'),
  table('tenant', 'operations'),
  table('tenant', 'ordre_fabrication'),
  table('tenant', 'production'),
  table('tenant', 'planning'),
  table('tenant', 'qualite'),
  table('tenant', 'maintenance'),
  table('tenant', 'documents'),
  table('tenant', 'tracabilite'),
  table('tenant', 'notifications'),
  table('tenant', 'notification_reads'),
  table('tenant', 'notification_events'),
  table('tenant', 'notification_rules'),
  table('tenant', 'notification_rule_executions'),
  table('tenant', 'query_builders'),
  table('tenant', 'query_builder_columns'),
  table('tenant', 'query_builder_joins'),
  table('tenant', 'query_builder_calculated_fields'),
  table('tenant', 'query_builder_permissions'),
];

const ORM_BOOKKEEPING = "the monolith ORM's bookkeeping; each new database keeps its own migrations table";
const DEMO_DATA = 'demo data without business value; db:clean archives and removes it';

/** The monolith's demo tables: excluded from the split, emptied by db:clean's test-tables rule. */
export const DEMO_TABLES = ['test_categories', 'test_products', 'test_orders', 'test_order_items'] as const;

const EXCLUDED: ExcludedTable[] = [
  { source: 'migrations', reason: ORM_BOOKKEEPING },
  { source: 'seeds_status', reason: ORM_BOOKKEEPING },
  { source: 'typeorm_metadata', reason: ORM_BOOKKEEPING },
  ...DEMO_TABLES.map((source) => ({ source, reason: DEMO_DATA })),
];

const reference = (
  kind: CutReference['kind'],
  from: [SchemaKind, string, string],
  to: [SchemaKind, string, string],
  legacy?: { constraint: string; onDelete: 'CASCADE' | 'SET NULL' },
): CutReference => {
  const target = (database: SchemaKind, source: string) =>
    TABLES.find((planned) => planned.source === source && planned.database === database)?.target ?? source;
  return {
    kind,
    from: { database: from[0], sourceTable: from[1], table: target(from[0], from[1]), column: from[2] },
    to: { database: to[0], sourceTable: to[1], table: target(to[0], to[1]), column: to[2] },
    legacyConstraint: legacy?.constraint,
    onDelete: legacy?.onDelete,
  };
};

/**
 * Every reference the split cuts. The ten legacy foreign keys between databases cannot stay
 * constraints; the logical ones never were, but they point across databases after the split, so
 * `db:verify` checks them the same way: no reference may dangle that did not dangle in the monolith.
 */
const CUT_REFERENCES: CutReference[] = [
  reference('foreign-key', ['shared', 'materiaux', 'fournisseur_id'], ['tenant', 'fournisseurs', 'id'], {
    constraint: 'FK_materiaux_fournisseur',
    onDelete: 'SET NULL',
  }),
  reference('foreign-key', ['tenant', 'produits', 'materiau_id'], ['shared', 'materiaux', 'id'], {
    constraint: 'FK_produits_materiau',
    onDelete: 'SET NULL',
  }),
  reference('foreign-key', ['tenant', 'chutes', 'materiau_id'], ['shared', 'materiaux', 'id'], {
    constraint: 'FK_chutes_materiau',
    onDelete: 'CASCADE',
  }),
  reference('foreign-key', ['tenant', 'production', 'operateur_id'], ['auth', 'users', 'id'], {
    constraint: 'FK_production_operateur',
    onDelete: 'SET NULL',
  }),
  reference('foreign-key', ['tenant', 'planning', 'assignee_id'], ['auth', 'users', 'id'], {
    constraint: 'FK_planning_assignee',
    onDelete: 'SET NULL',
  }),
  reference('foreign-key', ['tenant', 'qualite', 'controleur_id'], ['auth', 'users', 'id'], {
    constraint: 'FK_qualite_controleur',
    onDelete: 'CASCADE',
  }),
  reference('foreign-key', ['tenant', 'maintenance', 'technicien_id'], ['auth', 'users', 'id'], {
    constraint: 'FK_maintenance_technicien',
    onDelete: 'SET NULL',
  }),
  reference('foreign-key', ['tenant', 'notifications', 'sender_id'], ['auth', 'users', 'id'], {
    constraint: 'FK_notifications_sender',
    onDelete: 'SET NULL',
  }),
  reference('foreign-key', ['tenant', 'notification_reads', 'user_id'], ['auth', 'users', 'id'], {
    constraint: 'FK_notification_reads_user',
    onDelete: 'CASCADE',
  }),
  reference(
    'foreign-key',
    ['tenant', 'notification_rules', 'template_id'],
    ['shared', 'notification_templates', 'id'],
    { constraint: 'FK_notification_rules_template', onDelete: 'SET NULL' },
  ),
  reference('logical', ['tenant', 'documents', 'uploaded_by'], ['auth', 'users', 'id']),
  reference('logical', ['tenant', 'tracabilite', 'utilisateur_id'], ['auth', 'users', 'id']),
  reference('logical', ['tenant', 'query_builders', 'createdById'], ['auth', 'users', 'id']),
  reference('logical', ['tenant', 'query_builder_permissions', 'userId'], ['auth', 'users', 'id']),
  reference('logical', ['tenant', 'query_builder_permissions', 'roleId'], ['auth', 'roles', 'id']),
];

const NEW_TABLES: NewTable[] = [
  { database: 'auth', table: 'societes', purpose: 'the sociétés and where each tenant database lives' },
  { database: 'auth', table: 'societe_users', purpose: 'which user belongs to which société' },
  { database: 'auth', table: 'sites', purpose: "each société's sites, one default" },
  {
    database: 'shared',
    table: 'shared_processes',
    purpose: 'manufacturing processes common to every société',
  },
  {
    database: 'shared',
    table: 'shared_quality_standards',
    purpose: 'quality standards common to every société',
  },
];

export const DEFAULT_PLAN: MigrationPlan = {
  tables: TABLES,
  excluded: EXCLUDED,
  cutReferences: CUT_REFERENCES,
  newTables: NEW_TABLES,
};
