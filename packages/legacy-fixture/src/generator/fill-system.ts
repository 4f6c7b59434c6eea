import { TableCounts } from './scale';
import { before, pick, uid } from './sql-helpers';

/** Notifications, query builder, system parameters, the ORM's bookkeeping and the test_* demo tables. */
export function systemStatements(counts: TableCounts): string[] {
  const c = counts;
  return [
    `INSERT INTO notification_templates (id, name, code, type, subject, body, variables, active, version, created_at, updated_at, deleted_at)
     SELECT ${uid('notification_templates', 'i')}, 'Modèle ' || i, 'TPL_' || i, ${pick(['email', 'sms', 'push'], 'i')}, 'Sujet {{ref}} ' || i,
            'Bonjour {{nom}},' || chr(10) || 'Votre commande {{ref}} est prête.', '["nom","ref"]', i <> 10, 1, ${before('500', 'days')}, ${before('i', 'days')}, NULL
     FROM generate_series(1, 10) AS i`,

    `INSERT INTO notification_rules (id, name, event_type, conditions, template_id, recipients, active, version, created_at, updated_at, deleted_at)
     SELECT ${uid('notification_rules', 'i')}, 'Règle ' || i, ${pick(['commande.creee', 'stock.bas', 'facture.retard'], 'i')}, NULL,
            CASE WHEN i <> 10 THEN ${uid('notification_templates', 'i')} END, '["commercial"]', true, 1, ${before('400', 'days')}, ${before('i', 'days')}, NULL
     FROM generate_series(1, 10) AS i`,

    `INSERT INTO notification_events (id, type, entity_type, entity_id, data, processed, processed_at, version, created_at, updated_at, deleted_at)
     SELECT ${uid('notification_events', 'i')}, ${pick(['commande.creee', 'stock.bas', 'facture.retard'], 'i')}, 'commande',
            ${uid('commandes', `1 + i % ${c.commandes}`)}, '{"ref":"CMD-' || i || '"}', i % 4 <> 0, CASE WHEN i % 4 <> 0 THEN ${before('i % 100', 'hours')} END,
            1, ${before('i % 100 + 1', 'hours')}, ${before('i % 100', 'hours')}, NULL
     FROM generate_series(1, ${c.notificationEvents}) AS i`,

    `INSERT INTO notification_rule_executions (id, rule_id, event_id, success, error_message, sent_at, version, created_at, updated_at, deleted_at)
     SELECT ${uid('notification_rule_executions', 'i')}, ${uid('notification_rules', '1 + i % 10')}, ${uid('notification_events', `1 + i % ${c.notificationEvents}`)},
            i % 12 <> 0, CASE WHEN i % 12 = 0 THEN 'SMTP timeout' END, CASE WHEN i % 12 <> 0 THEN ${before('i % 100', 'hours')} END,
            1, ${before('i % 100', 'hours')}, ${before('i % 100', 'hours')}, NULL
     FROM generate_series(1, ${c.ruleExecutions}) AS i`,

    // Half the notifications are read; some of those are older than 90 days (a cleaning rule targets them).
    `INSERT INTO notifications (id, type, title, message, data, entity_type, entity_id, sender_id, read, sent_at, version, created_at, updated_at, deleted_at)
     SELECT ${uid('notifications', 'i')}, ${pick(['info', 'alerte', 'rappel'], 'i')}, 'Notification ' || i, 'La commande ' || i || ' a changé de statut',
            NULL, 'commande', ${uid('commandes', `1 + i % ${c.commandes}`)}, CASE WHEN i % 3 <> 0 THEN ${uid('users', `1 + i % ${c.users}`)} END,
            i % 2 = 0, ${before('i % 200', 'days')}, 1, ${before('i % 200', 'days')}, ${before('i % 200', 'days')}, NULL
     FROM generate_series(1, ${c.notifications}) AS i`,

    `INSERT INTO notification_reads (id, notification_id, user_id, read_at, version, created_at, updated_at, deleted_at)
     SELECT ${uid('notification_reads', 'i')}, ${uid('notifications', 'i')}, ${uid('users', `1 + (i * 3) % ${c.users}`)},
            ${before('i % 200', 'days')}, 1, ${before('i % 200', 'days')}, ${before('i % 200', 'days')}, NULL
     FROM generate_series(2, ${c.notifications}, 2) AS i`,

    // Six notifications from long ago, independent of the scale: three read long ago (the
    // old-read-notifications cleaning rule removes them), one read again last week and two never
    // read (the rule keeps those).
    `INSERT INTO notifications (id, type, title, message, data, entity_type, entity_id, sender_id, read, sent_at, version, created_at, updated_at, deleted_at)
     SELECT ${uid('notifications', "'ancienne-' || i")}, 'info', 'Ancienne notification ' || i, 'Archivée ' || i, NULL, 'commande',
            ${uid('commandes', `1 + i % ${c.commandes}`)}, NULL, i <= 4, ${before('90 + 20 * i', 'days')}, 1,
            ${before('90 + 20 * i', 'days')}, ${before('90 + 20 * i', 'days')}, NULL
     FROM generate_series(1, 6) AS i`,

    `INSERT INTO notification_reads (id, notification_id, user_id, read_at, version, created_at, updated_at, deleted_at)
     SELECT ${uid('notification_reads', "'ancienne-' || i")}, ${uid('notifications', "'ancienne-' || i")}, ${uid('users', '1')},
            CASE WHEN i = 4 THEN ${before('7', 'days')} ELSE ${before('89 + 20 * i', 'days')} END, 1,
            ${before('89 + 20 * i', 'days')}, ${before('89 + 20 * i', 'days')}, NULL
     FROM generate_series(1, 4) AS i`,

    `INSERT INTO query_builders (id, name, description, database, "mainTable", "isPublic", "maxRows", settings, layout, "createdById", "createdAt", "updatedAt")
     SELECT ${uid('query_builders', 'i')}, 'Requête ' || i, NULL, 'erp_topsteel', ${pick(['commandes', 'clients', 'facturation'], 'i')}, i % 2 = 0,
            CASE WHEN i % 2 = 0 THEN 1000 END, '{"pagination": true}', NULL, ${uid('users', '1 + i')}, ${before('100', 'days')}, ${before('i', 'days')}
     FROM generate_series(1, 5) AS i`,

    // Columns 1 and 2 belong to a query builder that does not exist ("queryBuilderId" has no FK).
    `INSERT INTO query_builder_columns (id, "queryBuilderId", "tableName", "columnName", alias, label, description, "dataType", "isPrimaryKey",
                                       "isForeignKey", "isVisible", "isFilterable", "isSortable", "isGroupable", "displayOrder", width, format, aggregation)
     SELECT ${uid('query_builder_columns', 'i')}, CASE WHEN i <= 2 THEN ${uid('query_builders', '-1')} ELSE ${uid('query_builders', '1 + i % 5')} END,
            'commandes', ${pick(['numero', 'statut', 'montant_ttc', 'date_commande'], 'i')}, 'col' || i, 'Colonne ' || i, NULL,
            ${pick(['string', 'string', 'number', 'date'], 'i')}, i % 4 = 1, false, true, true, true, false, i, 120, NULL, NULL
     FROM generate_series(1, 20) AS i`,

    `INSERT INTO query_builder_joins (id, "queryBuilderId", "fromTable", "fromColumn", "toTable", "toColumn", "joinType", alias, "order")
     SELECT ${uid('query_builder_joins', 'i')}, ${uid('query_builders', '1 + i % 5')}, 'commandes', 'client_id', 'clients', 'id', 'LEFT', 'c' || i, i
     FROM generate_series(1, 5) AS i`,

    `INSERT INTO query_builder_calculated_fields (id, "queryBuilderId", name, label, description, expression, "dataType", "isVisible", "displayOrder", format, dependencies)
     SELECT ${uid('query_builder_calculated_fields', 'i')}, ${uid('query_builders', '1 + i % 5')}, 'marge' || i, 'Marge ' || i, NULL,
            'montant_ttc - montant_ht', 'number', true, i, NULL, '["montant_ttc","montant_ht"]'
     FROM generate_series(1, 5) AS i`,

    `INSERT INTO query_builder_permissions (id, "queryBuilderId", "permissionType", "userId", "roleId", "isAllowed")
     SELECT ${uid('query_builder_permissions', 'i')}, ${uid('query_builders', '1 + i % 5')}, ${pick(['view', 'edit'], 'i')},
            CASE WHEN i % 2 = 0 THEN ${uid('users', 'i')} END, CASE WHEN i % 2 = 1 THEN ${uid('roles', '1 + i % 8')} END, true
     FROM generate_series(1, 10) AS i`,

    `INSERT INTO system_parameters (id, key, value, description, type, category, version, created_at, updated_at, deleted_at)
     SELECT ${uid('system_parameters', 'i')}, 'param.' || i, (i * 10)::text, 'Paramètre ' || i, ${pick(['string', 'number', 'boolean'], 'i')},
            ${pick(['general', 'production', 'facturation'], 'i')}, 1, ${before('600', 'days')}, ${before('i', 'days')}, NULL
     FROM generate_series(1, 20) AS i`,

    `INSERT INTO system_settings (id, key, value, description, type, category, version, created_at, updated_at, deleted_at)
     SELECT ${uid('system_settings', 'i')}, 'setting.' || i, 'valeur ' || i, NULL, 'string', 'general', 1, ${before('600', 'days')}, ${before('i', 'days')},
            CASE WHEN i = 20 THEN ${before('1', 'days')} END
     FROM generate_series(1, 20) AS i`,

    `INSERT INTO migrations ("timestamp", name)
     SELECT 1700000000000 + i * 86400000, 'Migration' || (1700000000000 + i * 86400000) FROM generate_series(1, 12) AS i`,

    `INSERT INTO seeds_status (name, executed_at) SELECT 'seed-' || i, ${before('500 - i', 'days')} FROM generate_series(1, 4) AS i`,

    // TypeORM's own table, without primary key: one exact duplicate row.
    `INSERT INTO typeorm_metadata (type, database, schema, "table", name, value)
     VALUES ('VIEW', NULL, 'public', 'v_commandes', 'v_commandes', 'SELECT * FROM commandes'),
            ('GENERATED_COLUMN', NULL, 'public', 'clients', 'nom_complet', 'nom || prenom'),
            ('GENERATED_COLUMN', NULL, 'public', 'clients', 'nom_complet', 'nom || prenom')`,

    `INSERT INTO test_categories (id, name, description, "isActive", "createdAt", "updatedAt")
     SELECT ${uid('test_categories', 'i')}, 'Catégorie test ' || i, NULL, true, ${before('200', 'days')}, ${before('200', 'days')}
     FROM generate_series(1, 5) AS i`,

    `INSERT INTO test_products (id, sku, name, description, "categoryId", price, cost, "stockQuantity", "minimumStock", weight, "isActive", "createdAt", "updatedAt")
     SELECT ${uid('test_products', 'i')}, 'SKU-' || i, 'Produit test ' || i, NULL, ${uid('test_categories', '1 + i % 5')}, 10 + i, 5 + i, i, 10,
            round((i * 0.25)::numeric, 3), true, ${before('200', 'days')}, ${before('200', 'days')}
     FROM generate_series(1, 20) AS i`,

    `INSERT INTO test_orders (id, "orderNumber", "customerId", "orderDate", status, "totalAmount", "shippingAddress", notes, "createdAt", "updatedAt")
     SELECT ${uid('test_orders', 'i')}, 'TO-' || i, ${uid('clients', '1 + i')}, ${before('i', 'days')}, 'pending', 100 + i, NULL, NULL,
            ${before('i', 'days')}, ${before('i', 'days')}
     FROM generate_series(1, 30) AS i`,

    `INSERT INTO test_order_items (id, "orderId", "productId", quantity, "unitPrice", discount, "totalPrice", "createdAt")
     SELECT ${uid('test_order_items', 'i')}, ${uid('test_orders', '1 + i % 30')}, ${uid('test_products', '1 + i % 20')}, 1 + i % 3, 10, 0, 10 * (1 + i % 3),
            ${before('i', 'days')}
     FROM generate_series(1, 60) AS i`,
  ];
}
