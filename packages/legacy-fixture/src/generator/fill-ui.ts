import { TableCounts } from './scale';
import { before, pick, uid } from './sql-helpers';

const MENU_ITEMS = 24;

/** Menus, discovered pages, the four generations of menu preferences, datatable preferences, user settings. */
export function uiStatements(counts: TableCounts): string[] {
  const users = counts.users;
  const some = (limit: number): number => Math.min(users, limit);
  return [
    `INSERT INTO menu_configurations (id, name, description, "isActive", "isSystem", metadata, "createdAt", "updatedAt", "createdBy", "updatedBy")
     SELECT ${uid('menu_configurations', 'i')}, (ARRAY['Menu principal', 'Menu classique'])[i], 'Configuration ' || i, i = 1, i = 1,
            json_build_object('version', i), ${before('500', 'days')}::timestamptz, ${before('i', 'days')}::timestamptz, ${uid('users', '1')}, NULL
     FROM generate_series(1, 2) AS i`,

    // Items 1-6 are roots of configuration 1, 7-20 their children, 21-24 belong to configuration 2.
    `INSERT INTO menu_items (id, "configId", "parentId", title, "titleKey", href, icon, gradient, badge, "orderIndex", "isVisible", "moduleId", target, metadata, "createdAt")
     SELECT ${uid('menu_items', 'i')}, ${uid('menu_configurations', 'CASE WHEN i > 20 THEN 2 ELSE 1 END')},
            CASE WHEN i BETWEEN 7 AND 20 THEN ${uid('menu_items', '1 + i % 6')} END,
            ${pick(['Tableau de bord', 'Clients', 'Commandes', 'Production', 'Stocks', 'Facturation', 'Qualité', 'Paramètres'], 'i')} || ' ' || i,
            'menu.item' || i, '/page-' || i, 'icon-' || i % 8, CASE WHEN i % 3 = 0 THEN 'from-blue-500 to-cyan-500' END,
            CASE WHEN i = 3 THEN 'Nouveau' END, i % 10, i <> 19, CASE WHEN i % 2 = 0 THEN 'module-' || i % 5 END,
            CASE WHEN i = 20 THEN '_blank' END, NULL, ${before('400 - i', 'days')}::timestamptz
     FROM generate_series(1, ${MENU_ITEMS}) AS i`,

    `INSERT INTO menu_item_roles (id, "menuItemId", "roleId", "isRequired", "createdAt")
     SELECT ${uid('menu_item_roles', "i || '-' || r")}, ${uid('menu_items', 'i')}, ${uid('roles', 'r')}, r = 1, ${before('300', 'days')}::timestamptz
     FROM generate_series(1, ${MENU_ITEMS}) AS i, generate_series(1, 8) AS r
     WHERE (i + r) % 4 = 0`,

    `INSERT INTO menu_item_permissions (id, "menuItemId", "permissionId", "isRequired", "createdAt")
     SELECT ${uid('menu_item_permissions', 'i')}, ${uid('menu_items', 'i')}, ${uid('permissions', 'i')}, i % 2 = 0, ${before('300', 'days')}::timestamptz
     FROM generate_series(1, ${MENU_ITEMS}) AS i`,

    `INSERT INTO discovered_pages (id, page_id, title, href, description, icon, category, subcategory, required_permissions, required_roles,
                                   module_id, is_enabled, is_visible, default_access_level, default_order, created_at, updated_at)
     SELECT ${uid('discovered_pages', 'i')}, 'page-' || i, 'Page ' || i, '/pages/' || i, NULL, NULL,
            ${pick(['administration', 'production', 'commercial'], 'i')}, NULL, CASE WHEN i % 3 = 0 THEN 'admin.read' END,
            CASE WHEN i % 5 = 0 THEN 'ADMIN' END, 'module-' || i % 5, i <> 30, true, ${pick(['ADMIN', 'WRITE', 'read'], 'i')}, i,
            ${before('100 - i', 'days')}, CASE WHEN i % 2 = 0 THEN ${before('i', 'days')} END
     FROM generate_series(1, 30) AS i`,

    `INSERT INTO user_menu_preferences (id, user_id, menu_id, is_visible, "order", custom_label, version, created_at, updated_at, deleted_at)
     SELECT ${uid('user_menu_preferences', "u || '-' || m")}, ${uid('users', 'u')}, 'menu-' || m, (u + m) % 5 <> 0, m, CASE WHEN m = 2 THEN 'Mes commandes' END,
            1, ${before('u % 100 + 10', 'days')}, ${before('u % 10', 'days')}, NULL
     FROM generate_series(1, ${some(60)}) AS u, generate_series(1, 2) AS m`,

    // "userId" has no FK here: the last row names a user that does not exist.
    `INSERT INTO user_menu_preferences_admin (id, "userId", "menuId", "isVisible", "order", "customLabel", version, created_at, updated_at, deleted_at)
     SELECT ${uid('user_menu_preferences_admin', 'u')}, CASE WHEN u = 0 THEN ${uid('users', '-7')} ELSE ${uid('users', 'u')} END,
            'admin-menu', true, u, NULL, 1, ${before('60', 'days')}, ${before('u', 'days')}, NULL
     FROM generate_series(0, ${some(10)}) AS u`,

    `INSERT INTO user_menu_preferences_old (id, user_id, menu_id, is_visible, "order", custom_label, backup_date, reason, version, created_at, updated_at, deleted_at)
     SELECT ${uid('user_menu_preferences_old', 'u')}, ${uid('users', 'u')}, 'menu-' || u % 3, true, u, NULL, ${before('365', 'days')},
            'Migration menu v2', 1, ${before('700', 'days')}, ${before('365', 'days')}, CASE WHEN u % 7 = 0 THEN ${before('100', 'days')} END
     FROM generate_series(1, ${some(20)}) AS u`,

    `INSERT INTO user_menu_item_preferences (id, user_id, menu_item_id, visible, "order", version, created_at, updated_at, deleted_at)
     SELECT ${uid('user_menu_item_preferences', "u || '-' || m")}, ${uid('users', 'u')},
            CASE WHEN u = 1 AND m = 3 THEN ${uid('menu_items', '-1')} ELSE ${uid('menu_items', 'm')} END, m <> 2, m, 1,
            ${before('90', 'days')}, ${before('u % 9', 'days')}, NULL
     FROM generate_series(1, ${some(30)}) AS u, generate_series(1, 3) AS m`,

    `INSERT INTO datatable_hierarchical_preferences (id, user_id, table_id, display_config, created_at, updated_at)
     SELECT ${uid('datatable_hierarchical_preferences', "u || '-' || t")}, ${uid('users', 'u')}, (ARRAY['clients-table', 'commandes_table'])[t],
            CASE WHEN u = 1 THEN '{"indentSize": 32, "compactMode": true, "levelColors": ["#ff0000"], "collapsibleGroups": false, "showConnectionLines": true, "showLevelIndicators": false}'::jsonb
                 ELSE '{"indentSize": 24, "compactMode": false, "levelColors": [], "collapsibleGroups": true, "showConnectionLines": true, "showLevelIndicators": true}'::jsonb END,
            ${before('50', 'days')}, ${before('u % 5', 'days')}
     FROM generate_series(1, ${some(20)}) AS u, generate_series(1, 2) AS t`,

    `INSERT INTO datatable_hierarchy_order (id, user_id, table_id, item_id, parent_id, display_order, level, path, created_at, updated_at)
     SELECT ${uid('datatable_hierarchy_order', "u || '-' || t || '-' || k")}, ${uid('users', 'u')}, (ARRAY['clients-table', 'commandes_table'])[t],
            'item-' || k, CASE WHEN k > 1 THEN 'item-1' END, k - 1, CASE WHEN k > 1 THEN 1 ELSE 0 END,
            CASE WHEN k > 1 THEN '/item-1/item-' || k ELSE '/item-1' END, ${before('50', 'days')}, ${before('u % 5', 'days')}
     FROM generate_series(1, ${some(20)}) AS u, generate_series(1, 2) AS t, generate_series(1, 5) AS k`,

    `INSERT INTO ui_preferences_reorderable_list (id, user_id, component_id, theme, created_at, updated_at)
     SELECT ${uid('ui_preferences_reorderable_list', 'u')}, ${uid('users', 'u')}, 'menu-editor', ${pick(['default', 'compact', 'modern', 'minimal', 'colorful'], 'u')},
            ${before('40', 'days')}, ${before('u % 4', 'days')}
     FROM generate_series(1, ${some(20)}) AS u`,

    `INSERT INTO user_settings (id, "userId", profile, company, metadata, "createdAt", "updatedAt")
     SELECT ${uid('user_settings', 'u')}, ${uid('users', 'u')}, jsonb_build_object('bio', 'Profil ' || u, 'avatar', NULL),
            CASE WHEN u % 3 = 0 THEN jsonb_build_object('societe', 'TopSteel') END, NULL, ${before('300', 'days')}, ${before('u % 30', 'days')}
     FROM generate_series(1, ${users}) AS u`,

    // Key/value snapshot without primary key; two exact duplicate rows, as the legacy export left them.
    `INSERT INTO user_settings_backup (id, user_id, key, value, type, category, version, created_at, updated_at, deleted_at)
     SELECT CASE WHEN k = 3 AND u % 2 = 0 THEN NULL ELSE ${uid('user_settings_backup', "u || '-' || k")} END, ${uid('users', 'u')},
            (ARRAY['theme', 'language', 'notifications'])[k], (ARRAY['dark', 'fr', 'true'])[k], (ARRAY['string', 'string', 'boolean'])[k],
            'ui', 1, ${before('800', 'days')}, ${before('800', 'days')}, NULL
     FROM generate_series(1, ${some(20)}) AS u, generate_series(1, 3) AS k`,
    `INSERT INTO user_settings_backup SELECT * FROM user_settings_backup WHERE key = 'theme' ORDER BY user_id LIMIT 2`,

    `INSERT INTO notification_settings (id, user_id, type, enabled, channel, version, created_at, updated_at, deleted_at)
     SELECT ${uid('notification_settings', "u || '-' || t")}, ${uid('users', 'u')}, (ARRAY['commande', 'stock'])[t], (u + t) % 4 <> 0, 'email',
            1, ${before('200', 'days')}, ${before('u % 20', 'days')}, NULL
     FROM generate_series(1, ${users}) AS u, generate_series(1, 2) AS t`,
  ];
}
