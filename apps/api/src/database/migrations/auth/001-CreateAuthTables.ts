import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * AUTH: users, RBAC, sessions, MFA, menus and UI preferences, user and notification settings, plus the new sociétés, members and sites.
 *
 * Every legacy column keeps its name, type, nullability and default (DESIGN.md invariant 1), so the
 * copy is a plain projection of the monolith. Foreign keys that the split cuts across databases are
 * not created here; the migration plan lists them and `db:verify` checks them.
 * The DDL was produced once from the monolith's catalogue; a test compares it with the legacy schema.
 */
export class CreateAuthTables1751328000001 implements MigrationInterface {
  readonly name = 'CreateAuthTables1751328000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(UP);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(DOWN);
  }
}

const UP = `
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";

-- Enum types exactly as in the monolith ('read' is lowercase there).
CREATE TYPE access_level AS ENUM ('BLOCKED', 'read', 'WRITE', 'DELETE', 'ADMIN');
CREATE TYPE module_category AS ENUM ('CORE', 'BUSINESS', 'ADMIN', 'REPORTS');
CREATE TYPE session_status AS ENUM ('active', 'ended', 'forced_logout', 'expired');

-- Bumps updated_at on the three raw-SQL UI preference tables, as in the monolith.
CREATE FUNCTION update_updated_at_column() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at = CURRENT_TIMESTAMP;
    RETURN NEW;
END;
$$;

CREATE TABLE users (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  nom character varying(255) NOT NULL,
  prenom character varying(255) NOT NULL,
  email character varying(255) NOT NULL,
  password character varying(255) NOT NULL,
  role character varying(50) NOT NULL DEFAULT 'OPERATEUR'::character varying,
  actif boolean NOT NULL DEFAULT true,
  acronyme character varying(10),
  dernier_login timestamp without time zone,
  version integer NOT NULL DEFAULT 1,
  "refreshToken" character varying(500),
  metadata jsonb,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  CONSTRAINT "PK_users" PRIMARY KEY (id),
  CONSTRAINT "UQ_users_acronyme" UNIQUE (acronyme),
  CONSTRAINT "UQ_users_email" UNIQUE (email)
);

CREATE TABLE roles (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  name character varying(100) NOT NULL,
  description text NOT NULL,
  "isSystemRole" boolean NOT NULL DEFAULT false,
  "isActive" boolean NOT NULL DEFAULT true,
  metadata json,
  "createdAt" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updatedAt" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "createdBy" uuid,
  "updatedBy" uuid,
  CONSTRAINT roles_pkey PRIMARY KEY (id),
  CONSTRAINT roles_name_key UNIQUE (name)
);

CREATE INDEX "IDX_roles_isActive" ON roles ("isActive");

CREATE INDEX "IDX_roles_isSystemRole" ON roles ("isSystemRole");

CREATE UNIQUE INDEX "IDX_roles_name" ON roles (name);

CREATE TABLE user_roles (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  "userId" uuid NOT NULL,
  "roleId" uuid NOT NULL,
  "assignedAt" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "assignedBy" uuid,
  CONSTRAINT user_roles_pkey PRIMARY KEY (id),
  CONSTRAINT "UQ_user_role" UNIQUE ("userId", "roleId")
);

CREATE TABLE modules (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  name character varying(100) NOT NULL,
  description text NOT NULL,
  category module_category NOT NULL DEFAULT 'BUSINESS'::module_category,
  icon character varying(50),
  "parentModuleId" uuid,
  "isActive" boolean NOT NULL DEFAULT true,
  "sortOrder" integer NOT NULL DEFAULT 0,
  metadata json,
  "createdAt" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updatedAt" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT modules_pkey PRIMARY KEY (id),
  CONSTRAINT modules_name_key UNIQUE (name)
);

CREATE INDEX "IDX_modules_category" ON modules (category);

CREATE INDEX "IDX_modules_isActive" ON modules ("isActive");

CREATE UNIQUE INDEX "IDX_modules_name" ON modules (name);

CREATE TABLE permissions (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  "moduleId" uuid NOT NULL,
  action character varying(100) NOT NULL,
  name character varying(200) NOT NULL,
  description text NOT NULL,
  level access_level NOT NULL DEFAULT 'read'::access_level,
  "isRequired" boolean NOT NULL DEFAULT false,
  conditions json,
  metadata json,
  "createdAt" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updatedAt" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT permissions_pkey PRIMARY KEY (id),
  CONSTRAINT "UQ_permission_module_action" UNIQUE ("moduleId", action)
);

CREATE INDEX "IDX_permissions_moduleId" ON permissions ("moduleId");

CREATE UNIQUE INDEX "IDX_permissions_module_action" ON permissions ("moduleId", action);

CREATE TABLE role_permissions (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  "roleId" uuid NOT NULL,
  "permissionId" uuid NOT NULL,
  "accessLevel" access_level NOT NULL DEFAULT 'read'::access_level,
  "isGranted" boolean NOT NULL DEFAULT true,
  conditions json,
  "createdAt" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
  metadata json,
  "updatedAt" timestamp with time zone DEFAULT CURRENT_TIMESTAMP,
  "grantedBy" uuid,
  CONSTRAINT role_permissions_pkey PRIMARY KEY (id),
  CONSTRAINT "UQ_role_permission" UNIQUE ("roleId", "permissionId")
);

CREATE INDEX "IDX_role_permissions_permissionId" ON role_permissions ("permissionId");

CREATE INDEX "IDX_role_permissions_roleId" ON role_permissions ("roleId");

CREATE UNIQUE INDEX "IDX_role_permissions_role_permission" ON role_permissions ("roleId", "permissionId");

CREATE TABLE groups (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  name character varying(255) NOT NULL,
  code character varying(100) NOT NULL,
  description text,
  active boolean NOT NULL DEFAULT true,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  CONSTRAINT "PK_groups" PRIMARY KEY (id),
  CONSTRAINT "UQ_groups_code" UNIQUE (code)
);

CREATE TABLE user_groups (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  user_id uuid NOT NULL,
  group_id uuid NOT NULL,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  CONSTRAINT "PK_user_groups" PRIMARY KEY (id),
  CONSTRAINT "UQ_user_groups" UNIQUE (user_id, group_id)
);

CREATE TABLE user_sessions (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  "userId" uuid NOT NULL,
  "sessionId" text NOT NULL,
  "accessToken" text NOT NULL,
  "refreshToken" text,
  "loginTime" timestamp without time zone NOT NULL,
  "logoutTime" timestamp without time zone,
  "lastActivity" timestamp without time zone NOT NULL,
  "ipAddress" inet,
  "userAgent" text,
  "deviceInfo" jsonb,
  location jsonb,
  "isActive" boolean NOT NULL DEFAULT true,
  "isIdle" boolean NOT NULL DEFAULT false,
  status session_status NOT NULL DEFAULT 'active'::session_status,
  "warningCount" integer NOT NULL DEFAULT 0,
  "forcedLogoutBy" uuid,
  "forcedLogoutReason" text,
  metadata jsonb,
  "createdAt" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updatedAt" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
  expires_at timestamp without time zone,
  CONSTRAINT user_sessions_pkey PRIMARY KEY (id),
  CONSTRAINT "user_sessions_sessionId_key" UNIQUE ("sessionId")
);

CREATE INDEX "IDX_user_sessions_isActive" ON user_sessions ("isActive");

CREATE INDEX "IDX_user_sessions_lastActivity" ON user_sessions ("lastActivity");

CREATE INDEX "IDX_user_sessions_loginTime" ON user_sessions ("loginTime");

CREATE INDEX "IDX_user_sessions_sessionId" ON user_sessions ("sessionId");

CREATE INDEX "IDX_user_sessions_status" ON user_sessions (status);

CREATE INDEX "IDX_user_sessions_userId" ON user_sessions ("userId");

CREATE INDEX "IDX_user_sessions_expires_at" ON user_sessions (expires_at);

CREATE TABLE user_mfa (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  "userId" uuid NOT NULL,
  "type" character varying NOT NULL DEFAULT 'totp'::character varying,
  "isEnabled" boolean NOT NULL DEFAULT false,
  "isVerified" boolean NOT NULL DEFAULT false,
  secret character varying(255),
  "backupCodes" character varying(255),
  "phoneNumber" character varying(255),
  email character varying(255),
  "webauthnCredentials" jsonb,
  metadata jsonb,
  "lastUsedAt" timestamp without time zone,
  "verifiedAt" timestamp without time zone,
  "createdAt" timestamp without time zone NOT NULL DEFAULT now(),
  "updatedAt" timestamp without time zone NOT NULL DEFAULT now(),
  CONSTRAINT "PK_user_mfa" PRIMARY KEY (id)
);

CREATE TABLE mfa_session (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  "userId" uuid NOT NULL,
  "sessionToken" character varying NOT NULL,
  "mfaType" character varying NOT NULL,
  "isVerified" boolean NOT NULL DEFAULT false,
  "isExpired" boolean NOT NULL DEFAULT false,
  challenge text,
  "challengeId" character varying,
  "challengeOptions" jsonb,
  attempts integer NOT NULL DEFAULT 0,
  "maxAttempts" integer NOT NULL DEFAULT 5,
  "ipAddress" character varying,
  "userAgent" text,
  "expiresAt" timestamp without time zone NOT NULL DEFAULT (now() + '00:10:00'::interval),
  "verifiedAt" timestamp without time zone,
  "createdAt" timestamp without time zone NOT NULL DEFAULT now(),
  "updatedAt" timestamp without time zone NOT NULL DEFAULT now(),
  CONSTRAINT "PK_mfa_session" PRIMARY KEY (id),
  CONSTRAINT "UQ_mfa_session_sessionToken" UNIQUE ("sessionToken")
);

CREATE TABLE user_settings (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  "userId" uuid NOT NULL,
  profile jsonb,
  company jsonb,
  preferences jsonb NOT NULL DEFAULT '{"theme": "vibrant", "language": "fr", "timezone": "Europe/Paris", "appearance": {"theme": "vibrant", "density": "comfortable", "fontSize": "medium", "language": "fr", "accentColor": "blue", "sidebarWidth": "normal"}, "notifications": {"sms": false, "push": true, "email": true, "pushTypes": {"quiet": true, "sound": true, "normal": false, "urgent": true, "enabled": true}, "emailTypes": {"newMessages": true, "systemAlerts": true, "taskReminders": false, "weeklyReports": true, "securityAlerts": true, "maintenanceNotice": false}, "quietHours": {"end": "07:00", "start": "22:00", "enabled": true}}}'::jsonb,
  metadata jsonb,
  "createdAt" timestamp without time zone NOT NULL DEFAULT now(),
  "updatedAt" timestamp without time zone NOT NULL DEFAULT now(),
  CONSTRAINT "PK_user_settings" PRIMARY KEY (id),
  CONSTRAINT "UQ_user_settings_userId" UNIQUE ("userId")
);

CREATE INDEX "IDX_user_settings_userId" ON user_settings ("userId");

CREATE TABLE user_settings_backup (
  id uuid,
  user_id uuid,
  "key" character varying(255),
  value text,
  "type" character varying(50),
  category character varying(100),
  version integer,
  created_at timestamp without time zone,
  updated_at timestamp without time zone,
  deleted_at timestamp without time zone
);

CREATE TABLE menu_configurations (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  name character varying(255) NOT NULL,
  description text,
  "isActive" boolean NOT NULL DEFAULT false,
  "isSystem" boolean NOT NULL DEFAULT false,
  metadata json,
  "createdAt" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updatedAt" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "createdBy" uuid,
  "updatedBy" uuid,
  CONSTRAINT menu_configurations_pkey PRIMARY KEY (id),
  CONSTRAINT menu_configurations_name_key UNIQUE (name)
);

CREATE INDEX "IDX_menu_configurations_isActive" ON menu_configurations ("isActive");

CREATE INDEX "IDX_menu_configurations_isSystem" ON menu_configurations ("isSystem");

CREATE UNIQUE INDEX "IDX_menu_configurations_name" ON menu_configurations (name);

CREATE TABLE menu_items (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  "configId" uuid NOT NULL,
  "parentId" uuid,
  title character varying(255) NOT NULL,
  "titleKey" character varying(255),
  href character varying(500),
  icon character varying(50),
  gradient character varying(100),
  badge character varying(50),
  "orderIndex" integer NOT NULL DEFAULT 0,
  "isVisible" boolean NOT NULL DEFAULT true,
  "moduleId" character varying(255),
  target character varying(50),
  metadata json,
  "createdAt" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT menu_items_pkey PRIMARY KEY (id)
);

CREATE INDEX "IDX_menu_items_configId" ON menu_items ("configId");

CREATE INDEX "IDX_menu_items_orderIndex" ON menu_items ("orderIndex");

CREATE INDEX "IDX_menu_items_parentId" ON menu_items ("parentId");

CREATE TABLE menu_item_roles (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  "menuItemId" uuid NOT NULL,
  "roleId" uuid NOT NULL,
  "isRequired" boolean NOT NULL DEFAULT true,
  "createdAt" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT menu_item_roles_pkey PRIMARY KEY (id),
  CONSTRAINT "UQ_menu_item_role" UNIQUE ("menuItemId", "roleId")
);

CREATE TABLE menu_item_permissions (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  "menuItemId" uuid NOT NULL,
  "permissionId" uuid NOT NULL,
  "isRequired" boolean NOT NULL DEFAULT true,
  "createdAt" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT menu_item_permissions_pkey PRIMARY KEY (id),
  CONSTRAINT "UQ_menu_item_permission" UNIQUE ("menuItemId", "permissionId")
);

CREATE TABLE user_menu_preferences (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  user_id uuid NOT NULL,
  menu_id character varying(255) NOT NULL,
  is_visible boolean NOT NULL DEFAULT true,
  "order" integer NOT NULL DEFAULT 0,
  custom_label character varying(255),
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  CONSTRAINT "PK_user_menu_preferences" PRIMARY KEY (id),
  CONSTRAINT "UQ_user_menu_preferences" UNIQUE (user_id, menu_id)
);

CREATE TABLE user_menu_preferences_admin (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  "userId" uuid NOT NULL,
  "menuId" character varying(255) NOT NULL,
  "isVisible" boolean NOT NULL DEFAULT true,
  "order" integer NOT NULL DEFAULT 0,
  "customLabel" character varying(255),
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  CONSTRAINT "PK_user_menu_preferences_admin" PRIMARY KEY (id),
  CONSTRAINT "UQ_user_menu_preferences_admin_userId" UNIQUE ("userId")
);

CREATE INDEX "user_menu_preferences_admin_userId_unique" ON user_menu_preferences_admin ("userId");

CREATE TABLE user_menu_preferences_old (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  user_id uuid NOT NULL,
  menu_id character varying(255) NOT NULL,
  is_visible boolean NOT NULL DEFAULT true,
  "order" integer NOT NULL DEFAULT 0,
  custom_label character varying(255),
  backup_date timestamp without time zone NOT NULL DEFAULT now(),
  reason character varying(255),
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  CONSTRAINT "PK_user_menu_preferences_old" PRIMARY KEY (id)
);

CREATE INDEX "IDX_user_menu_preferences_old_menu_id" ON user_menu_preferences_old (menu_id);

CREATE INDEX "IDX_user_menu_preferences_old_user_id" ON user_menu_preferences_old (user_id);

CREATE TABLE user_menu_item_preferences (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  user_id uuid NOT NULL,
  menu_item_id uuid NOT NULL,
  visible boolean NOT NULL DEFAULT true,
  "order" integer NOT NULL DEFAULT 0,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  CONSTRAINT "PK_user_menu_item_preferences" PRIMARY KEY (id),
  CONSTRAINT "UQ_user_menu_item_preferences" UNIQUE (user_id, menu_item_id)
);

CREATE TABLE datatable_hierarchical_preferences (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL,
  table_id character varying(100) NOT NULL,
  hierarchy_config jsonb NOT NULL DEFAULT '{"maxDepth": 10, "levelField": "level", "orderField": "display_order", "parentField": "parent_id", "allowNesting": true, "childrenField": "children", "expandedNodes": [], "defaultExpanded": true}'::jsonb,
  reorder_config jsonb NOT NULL DEFAULT '{"autoExpand": true, "enableDragDrop": true, "allowLevelChange": true, "dragHandleVisible": true, "preserveHierarchy": true, "dropIndicatorStyle": "line"}'::jsonb,
  display_config jsonb NOT NULL DEFAULT '{"indentSize": 24, "compactMode": false, "levelColors": [], "collapsibleGroups": true, "showConnectionLines": true, "showLevelIndicators": true}'::jsonb,
  hierarchy_filters jsonb NOT NULL DEFAULT '{"showOnlyLevels": [], "hideEmptyParents": false, "searchInChildren": true, "filterPreservesHierarchy": true}'::jsonb,
  created_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP,
  updated_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT datatable_hierarchical_preferences_pkey PRIMARY KEY (id),
  CONSTRAINT check_indent_size CHECK (((((display_config ->> 'indentSize'::text))::integer >= 8) AND (((display_config ->> 'indentSize'::text))::integer <= 64))),
  CONSTRAINT check_max_depth CHECK (((((hierarchy_config ->> 'maxDepth'::text))::integer >= 1) AND (((hierarchy_config ->> 'maxDepth'::text))::integer <= 20))),
  CONSTRAINT check_table_id_format CHECK ((((table_id)::text ~ '^[a-zA-Z0-9_-]+$'::text) AND (length((table_id)::text) >= 3))),
  CONSTRAINT unique_user_table UNIQUE (user_id, table_id)
);

CREATE INDEX idx_datatable_hierarchical_table_id ON datatable_hierarchical_preferences (table_id);

CREATE INDEX idx_datatable_hierarchical_updated_at ON datatable_hierarchical_preferences (updated_at);

CREATE INDEX idx_datatable_hierarchical_user_id ON datatable_hierarchical_preferences (user_id);

CREATE TRIGGER update_datatable_hierarchical_preferences_updated_at BEFORE UPDATE ON datatable_hierarchical_preferences FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TABLE datatable_hierarchy_order (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL,
  table_id character varying(100) NOT NULL,
  item_id character varying(100) NOT NULL,
  parent_id character varying(100) DEFAULT NULL::character varying,
  display_order integer NOT NULL DEFAULT 0,
  level integer NOT NULL DEFAULT 0,
  path character varying(1000) DEFAULT NULL::character varying,
  created_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP,
  updated_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT datatable_hierarchy_order_pkey PRIMARY KEY (id),
  CONSTRAINT check_display_order_positive CHECK ((display_order >= 0)),
  CONSTRAINT check_item_id_format CHECK ((((item_id)::text ~ '^[a-zA-Z0-9_-]+$'::text) AND (length((item_id)::text) >= 1))),
  CONSTRAINT check_level_range CHECK (((level >= 0) AND (level <= 19))),
  CONSTRAINT check_parent_id_format CHECK (((parent_id IS NULL) OR (((parent_id)::text ~ '^[a-zA-Z0-9_-]+$'::text) AND (length((parent_id)::text) >= 1)))),
  CONSTRAINT check_parent_not_self CHECK (((parent_id IS NULL) OR ((parent_id)::text <> (item_id)::text))),
  CONSTRAINT check_path_format CHECK (((path IS NULL) OR (length((path)::text) <= 1000))),
  CONSTRAINT unique_user_table_item UNIQUE (user_id, table_id, item_id)
);

CREATE INDEX idx_datatable_hierarchy_display_order ON datatable_hierarchy_order (display_order);

CREATE INDEX idx_datatable_hierarchy_level ON datatable_hierarchy_order (level);

CREATE INDEX idx_datatable_hierarchy_parent_id ON datatable_hierarchy_order (parent_id);

CREATE INDEX idx_datatable_hierarchy_path ON datatable_hierarchy_order (path);

CREATE INDEX idx_datatable_hierarchy_updated_at ON datatable_hierarchy_order (updated_at);

CREATE INDEX idx_datatable_hierarchy_user_table ON datatable_hierarchy_order (user_id, table_id);

CREATE TRIGGER update_datatable_hierarchy_order_updated_at BEFORE UPDATE ON datatable_hierarchy_order FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TABLE ui_preferences_reorderable_list (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL,
  component_id character varying(100) NOT NULL,
  theme character varying(50) NOT NULL DEFAULT 'default'::character varying,
  preferences jsonb NOT NULL DEFAULT '{"compactMode": false, "customColors": {}, "defaultExpanded": true, "enableAnimations": true, "showConnectionLines": true, "showLevelIndicators": true}'::jsonb,
  layout jsonb NOT NULL DEFAULT '{"maxDepth": 10, "allowNesting": true, "dragHandlePosition": "left", "expandButtonPosition": "left"}'::jsonb,
  created_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP,
  updated_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT ui_preferences_reorderable_list_pkey PRIMARY KEY (id),
  CONSTRAINT check_component_id_format CHECK ((((component_id)::text ~ '^[a-zA-Z0-9_-]+$'::text) AND (length((component_id)::text) >= 3))),
  CONSTRAINT check_drag_handle_position CHECK (((layout ->> 'dragHandlePosition'::text) = ANY (ARRAY['left'::text, 'right'::text]))),
  CONSTRAINT check_expand_button_position CHECK (((layout ->> 'expandButtonPosition'::text) = ANY (ARRAY['left'::text, 'right'::text]))),
  CONSTRAINT check_max_depth_layout CHECK (((((layout ->> 'maxDepth'::text))::integer >= 1) AND (((layout ->> 'maxDepth'::text))::integer <= 20))),
  CONSTRAINT check_theme_values CHECK (((theme)::text = ANY ((ARRAY['default'::character varying, 'compact'::character varying, 'modern'::character varying, 'minimal'::character varying, 'colorful'::character varying])::text[]))),
  CONSTRAINT unique_user_component UNIQUE (user_id, component_id)
);

CREATE INDEX idx_reorderable_preferences_component_id ON ui_preferences_reorderable_list (component_id);

CREATE INDEX idx_reorderable_preferences_updated_at ON ui_preferences_reorderable_list (updated_at);

CREATE INDEX idx_reorderable_preferences_user_id ON ui_preferences_reorderable_list (user_id);

CREATE TRIGGER update_ui_preferences_reorderable_list_updated_at BEFORE UPDATE ON ui_preferences_reorderable_list FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TABLE notification_settings (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  user_id uuid NOT NULL,
  "type" character varying(100) NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  channel character varying(100) NOT NULL DEFAULT 'email'::character varying,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  CONSTRAINT "PK_notification_settings" PRIMARY KEY (id),
  CONSTRAINT "UQ_notification_settings" UNIQUE (user_id, type, channel)
);

-- New in AUTH: sociétés, their members and their sites.
CREATE TABLE societes (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  code character varying(50) NOT NULL,
  nom character varying(255) NOT NULL,
  status character varying(20) NOT NULL DEFAULT 'active',
  database_name character varying(63) NOT NULL,
  database_host character varying(255),
  database_port integer,
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  updated_at timestamp with time zone NOT NULL DEFAULT now(),
  deleted_at timestamp with time zone,
  CONSTRAINT "PK_societes" PRIMARY KEY (id),
  CONSTRAINT "UQ_societes_code" UNIQUE (code),
  CONSTRAINT "UQ_societes_database_name" UNIQUE (database_name),
  CONSTRAINT "CHK_societes_status" CHECK (status IN ('active', 'suspended', 'archived')),
  CONSTRAINT "CHK_societes_database_port" CHECK (database_port IS NULL OR database_port BETWEEN 1 AND 65535)
);

CREATE TABLE societe_users (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  societe_id uuid NOT NULL,
  user_id uuid NOT NULL,
  role character varying(50) NOT NULL DEFAULT 'member',
  is_default boolean NOT NULL DEFAULT false,
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT "PK_societe_users" PRIMARY KEY (id),
  CONSTRAINT "UQ_societe_users" UNIQUE (societe_id, user_id)
);
CREATE INDEX "IDX_societe_users_user_id" ON societe_users (user_id);

CREATE TABLE sites (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  societe_id uuid NOT NULL,
  code character varying(50) NOT NULL,
  nom character varying(255) NOT NULL,
  is_default boolean NOT NULL DEFAULT false,
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  updated_at timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT "PK_sites" PRIMARY KEY (id),
  CONSTRAINT "UQ_sites_societe_code" UNIQUE (societe_id, code)
);
CREATE UNIQUE INDEX "UQ_sites_one_default" ON sites (societe_id) WHERE is_default;

-- Foreign keys that stay inside this database.

ALTER TABLE user_roles ADD CONSTRAINT "FK_user_roles_roleId" FOREIGN KEY ("roleId") REFERENCES roles(id) ON DELETE CASCADE;

ALTER TABLE user_roles ADD CONSTRAINT "FK_user_roles_userId" FOREIGN KEY ("userId") REFERENCES users(id) ON DELETE CASCADE;

ALTER TABLE modules ADD CONSTRAINT "FK_modules_parentModuleId" FOREIGN KEY ("parentModuleId") REFERENCES modules(id) ON DELETE SET NULL;

ALTER TABLE permissions ADD CONSTRAINT "FK_permissions_moduleId" FOREIGN KEY ("moduleId") REFERENCES modules(id) ON DELETE CASCADE;

ALTER TABLE role_permissions ADD CONSTRAINT "FK_role_permissions_permissionId" FOREIGN KEY ("permissionId") REFERENCES permissions(id) ON DELETE CASCADE;

ALTER TABLE role_permissions ADD CONSTRAINT "FK_role_permissions_roleId" FOREIGN KEY ("roleId") REFERENCES roles(id) ON DELETE CASCADE;

ALTER TABLE user_groups ADD CONSTRAINT "FK_user_groups_group" FOREIGN KEY (group_id) REFERENCES groups(id) ON DELETE CASCADE;

ALTER TABLE user_groups ADD CONSTRAINT "FK_user_groups_user" FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;

ALTER TABLE user_sessions ADD CONSTRAINT "FK_user_sessions_forcedLogoutBy" FOREIGN KEY ("forcedLogoutBy") REFERENCES users(id) ON DELETE SET NULL;

ALTER TABLE user_sessions ADD CONSTRAINT "FK_user_sessions_userId" FOREIGN KEY ("userId") REFERENCES users(id) ON DELETE CASCADE;

ALTER TABLE user_mfa ADD CONSTRAINT "FK_user_mfa_userId" FOREIGN KEY ("userId") REFERENCES users(id) ON DELETE CASCADE;

ALTER TABLE mfa_session ADD CONSTRAINT "FK_mfa_session_userId" FOREIGN KEY ("userId") REFERENCES users(id) ON DELETE CASCADE;

ALTER TABLE user_settings ADD CONSTRAINT "FK_user_settings_user" FOREIGN KEY ("userId") REFERENCES users(id) ON DELETE CASCADE;

ALTER TABLE menu_items ADD CONSTRAINT "FK_menu_items_configId" FOREIGN KEY ("configId") REFERENCES menu_configurations(id) ON DELETE CASCADE;

ALTER TABLE menu_items ADD CONSTRAINT "FK_menu_items_parentId" FOREIGN KEY ("parentId") REFERENCES menu_items(id) ON DELETE CASCADE;

ALTER TABLE menu_item_roles ADD CONSTRAINT "FK_menu_item_roles_menuItemId" FOREIGN KEY ("menuItemId") REFERENCES menu_items(id) ON DELETE CASCADE;

ALTER TABLE menu_item_roles ADD CONSTRAINT "FK_menu_item_roles_roleId" FOREIGN KEY ("roleId") REFERENCES roles(id) ON DELETE CASCADE;

ALTER TABLE menu_item_permissions ADD CONSTRAINT "FK_menu_item_permissions_menuItemId" FOREIGN KEY ("menuItemId") REFERENCES menu_items(id) ON DELETE CASCADE;

ALTER TABLE menu_item_permissions ADD CONSTRAINT "FK_menu_item_permissions_permissionId" FOREIGN KEY ("permissionId") REFERENCES permissions(id) ON DELETE CASCADE;

ALTER TABLE user_menu_preferences ADD CONSTRAINT "FK_user_menu_preferences_user" FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;

ALTER TABLE user_menu_preferences_old ADD CONSTRAINT "FK_user_menu_preferences_old_user" FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;

ALTER TABLE user_menu_item_preferences ADD CONSTRAINT "FK_user_menu_item_preferences_user" FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;

ALTER TABLE datatable_hierarchical_preferences ADD CONSTRAINT fk_hierarchical_preferences_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;

ALTER TABLE datatable_hierarchy_order ADD CONSTRAINT fk_hierarchy_order_preferences FOREIGN KEY (user_id, table_id) REFERENCES datatable_hierarchical_preferences(user_id, table_id) ON DELETE CASCADE;

ALTER TABLE datatable_hierarchy_order ADD CONSTRAINT fk_hierarchy_order_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;

ALTER TABLE ui_preferences_reorderable_list ADD CONSTRAINT fk_reorderable_preferences_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;

ALTER TABLE notification_settings ADD CONSTRAINT "FK_notification_settings_user" FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;

ALTER TABLE societe_users ADD CONSTRAINT "FK_societe_users_societe" FOREIGN KEY (societe_id) REFERENCES societes(id) ON DELETE CASCADE;
ALTER TABLE societe_users ADD CONSTRAINT "FK_societe_users_user" FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;
ALTER TABLE sites ADD CONSTRAINT "FK_sites_societe" FOREIGN KEY (societe_id) REFERENCES societes(id) ON DELETE CASCADE;
`;

const DOWN = `
DROP TABLE sites, societe_users, societes, notification_settings, ui_preferences_reorderable_list, datatable_hierarchy_order, datatable_hierarchical_preferences, user_menu_item_preferences, user_menu_preferences_old, user_menu_preferences_admin, user_menu_preferences, menu_item_permissions, menu_item_roles, menu_items, menu_configurations, user_settings_backup, user_settings, mfa_session, user_mfa, user_sessions, user_groups, groups, role_permissions, permissions, modules, user_roles, roles, users CASCADE;
DROP FUNCTION update_updated_at_column();
DROP TYPE session_status;
DROP TYPE module_category;
DROP TYPE access_level;
`;
