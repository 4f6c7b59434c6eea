/**
 * References the monolith never enforced (bare uuid columns). They stay inside one database after
 * the split but may already point at nothing; the audit counts those orphans. Polymorphic ones
 * name their target through a type column.
 */
export type UnconstrainedReference =
  | { table: string; column: string; references: string }
  | { table: string; column: string; typeColumn: string; targets: Record<string, string> };

/** entity_type values of the polymorphic columns and the table each one designates. */
export const ENTITY_TYPES: Record<string, string> = {
  commande: 'commandes',
  client: 'clients',
  devis: 'devis',
  facture: 'facturation',
  projet: 'projets',
  produit: 'produits',
  fournisseur: 'fournisseurs',
  machine: 'machines',
};

export const UNCONSTRAINED_REFERENCES: UnconstrainedReference[] = [
  { table: 'documents', column: 'entity_id', typeColumn: 'entity_type', targets: ENTITY_TYPES },
  { table: 'tracabilite', column: 'entity_id', typeColumn: 'entity_type', targets: ENTITY_TYPES },
  { table: 'notifications', column: 'entity_id', typeColumn: 'entity_type', targets: ENTITY_TYPES },
  { table: 'notification_events', column: 'entity_id', typeColumn: 'entity_type', targets: ENTITY_TYPES },
  { table: 'query_builder_columns', column: 'queryBuilderId', references: 'query_builders' },
  { table: 'query_builder_joins', column: 'queryBuilderId', references: 'query_builders' },
  { table: 'query_builder_calculated_fields', column: 'queryBuilderId', references: 'query_builders' },
  { table: 'query_builder_permissions', column: 'queryBuilderId', references: 'query_builders' },
  { table: 'user_menu_item_preferences', column: 'menu_item_id', references: 'menu_items' },
  { table: 'user_menu_preferences_admin', column: 'userId', references: 'users' },
  { table: 'roles', column: 'createdBy', references: 'users' },
  { table: 'roles', column: 'updatedBy', references: 'users' },
  { table: 'user_roles', column: 'assignedBy', references: 'users' },
  { table: 'role_permissions', column: 'grantedBy', references: 'users' },
  { table: 'menu_configurations', column: 'createdBy', references: 'users' },
  { table: 'menu_configurations', column: 'updatedBy', references: 'users' },
];
