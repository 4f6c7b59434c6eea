import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SHARED: reference data common to every société: materials (renamed shared_materials), system parameters and settings, discovered pages, notification templates, plus the new processes and quality standards.
 *
 * Every legacy column keeps its name, type, nullability and default (DESIGN.md invariant 1), so the
 * copy is a plain projection of the monolith. Foreign keys that the split cuts across databases are
 * not created here; the migration plan lists them and `db:verify` checks them.
 * The DDL was produced once from the monolith's catalogue; a test compares it with the legacy schema.
 */
export class CreateSharedTables1751328000002 implements MigrationInterface {
  readonly name = 'CreateSharedTables1751328000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(UP);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(DOWN);
  }
}

const UP = `
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";

CREATE TABLE shared_materials (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  nom character varying(255) NOT NULL,
  code character varying(100),
  "type" character varying(100),
  description text,
  densite numeric(10,4),
  prix_unitaire numeric(10,2),
  unite character varying(50) DEFAULT 'kg'::character varying,
  fournisseur_id uuid,
  actif boolean NOT NULL DEFAULT true,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  CONSTRAINT "PK_shared_materials" PRIMARY KEY (id),
  CONSTRAINT "UQ_shared_materials_code" UNIQUE (code)
);

CREATE TABLE system_parameters (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  "key" character varying(255) NOT NULL,
  value text NOT NULL,
  description text,
  "type" character varying(50) NOT NULL DEFAULT 'string'::character varying,
  category character varying(100) NOT NULL DEFAULT 'general'::character varying,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  CONSTRAINT "PK_system_parameters" PRIMARY KEY (id),
  CONSTRAINT "UQ_system_parameters_key" UNIQUE (key)
);

CREATE TABLE system_settings (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  "key" character varying(255) NOT NULL,
  value text NOT NULL,
  description text,
  "type" character varying(50) NOT NULL DEFAULT 'string'::character varying,
  category character varying(100) NOT NULL DEFAULT 'general'::character varying,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  CONSTRAINT "PK_system_settings" PRIMARY KEY (id),
  CONSTRAINT "UQ_system_settings_key" UNIQUE (key)
);

CREATE TABLE discovered_pages (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  page_id character varying NOT NULL,
  title character varying NOT NULL,
  href character varying NOT NULL,
  description text,
  icon character varying,
  category character varying NOT NULL,
  subcategory character varying,
  required_permissions text,
  required_roles text,
  module_id character varying,
  is_enabled boolean DEFAULT true,
  is_visible boolean DEFAULT true,
  default_access_level character varying DEFAULT 'ADMIN'::character varying,
  default_order integer DEFAULT 0,
  created_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP,
  updated_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT discovered_pages_pkey PRIMARY KEY (id),
  CONSTRAINT discovered_pages_page_id_key UNIQUE (page_id)
);

CREATE INDEX idx_discovered_pages_category ON discovered_pages (category);

CREATE INDEX idx_discovered_pages_is_enabled ON discovered_pages (is_enabled);

CREATE INDEX idx_discovered_pages_page_id ON discovered_pages (page_id);

CREATE TABLE notification_templates (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  name character varying(255) NOT NULL,
  code character varying(100) NOT NULL,
  "type" character varying(100) NOT NULL,
  subject character varying(255),
  body text,
  variables text,
  active boolean NOT NULL DEFAULT true,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  CONSTRAINT "PK_notification_templates" PRIMARY KEY (id),
  CONSTRAINT "UQ_notification_templates_code" UNIQUE (code)
);

-- New in SHARED: reference data common to every société.
CREATE TABLE shared_processes (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  code character varying(100) NOT NULL,
  nom character varying(255) NOT NULL,
  description text,
  categorie character varying(100),
  actif boolean NOT NULL DEFAULT true,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  CONSTRAINT "PK_shared_processes" PRIMARY KEY (id),
  CONSTRAINT "UQ_shared_processes_code" UNIQUE (code)
);

CREATE TABLE shared_quality_standards (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  code character varying(100) NOT NULL,
  nom character varying(255) NOT NULL,
  norme character varying(100),
  description text,
  actif boolean NOT NULL DEFAULT true,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  CONSTRAINT "PK_shared_quality_standards" PRIMARY KEY (id),
  CONSTRAINT "UQ_shared_quality_standards_code" UNIQUE (code)
);
`;

const DOWN = `
DROP TABLE shared_quality_standards, shared_processes, notification_templates, discovered_pages, system_settings, system_parameters, shared_materials CASCADE;
`;
