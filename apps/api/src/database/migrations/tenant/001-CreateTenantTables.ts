import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * TENANT: one société's business data: clients, quotes, orders, invoices, stock, production, documents, notifications and query builders; every table gains societe_id uuid NOT NULL, indexed.
 *
 * Every legacy column keeps its name, type, nullability and default (DESIGN.md invariant 1), so the
 * copy is a plain projection of the monolith. Foreign keys that the split cuts across databases are
 * not created here; the migration plan lists them and `db:verify` checks them.
 * The DDL was produced once from the monolith's catalogue; a test compares it with the legacy schema.
 */
export class CreateTenantTables1751328000003 implements MigrationInterface {
  readonly name = 'CreateTenantTables1751328000003';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(UP);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(DOWN);
  }
}

const UP = `
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";

CREATE TABLE fournisseurs (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  nom character varying(255) NOT NULL,
  code character varying(100),
  email character varying(255),
  telephone character varying(20),
  adresse text,
  ville character varying(100),
  code_postal character varying(10),
  pays character varying(100) DEFAULT 'France'::character varying,
  siret character varying(14),
  tva character varying(20),
  notes text,
  actif boolean NOT NULL DEFAULT true,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_fournisseurs" PRIMARY KEY (id),
  CONSTRAINT "UQ_fournisseurs_code" UNIQUE (code)
);

CREATE INDEX "IDX_fournisseurs_societe_id" ON fournisseurs (societe_id);

CREATE TABLE clients (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  nom character varying(255) NOT NULL,
  prenom character varying(255),
  email character varying(255),
  telephone character varying(20),
  adresse text,
  ville character varying(100),
  code_postal character varying(10),
  pays character varying(100) DEFAULT 'France'::character varying,
  entreprise character varying(255),
  siret character varying(14),
  numero_client character varying(50),
  actif boolean NOT NULL DEFAULT true,
  notes text,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_clients" PRIMARY KEY (id),
  CONSTRAINT "UQ_clients_email" UNIQUE (email),
  CONSTRAINT "UQ_clients_numero_client" UNIQUE (numero_client)
);

CREATE INDEX "IDX_clients_societe_id" ON clients (societe_id);

CREATE TABLE projets (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  nom character varying(255) NOT NULL,
  description text,
  client_id uuid NOT NULL,
  statut character varying(50) NOT NULL DEFAULT 'nouveau'::character varying,
  date_debut timestamp without time zone,
  date_fin_prevue timestamp without time zone,
  date_fin_reelle timestamp without time zone,
  budget_estime numeric(10,2),
  budget_reel numeric(10,2),
  priorite character varying(20) DEFAULT 'moyenne'::character varying,
  notes text,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_projets" PRIMARY KEY (id)
);

CREATE INDEX "IDX_projets_societe_id" ON projets (societe_id);

CREATE TABLE devis (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  numero character varying(100) NOT NULL,
  client_id uuid NOT NULL,
  projet_id uuid,
  date_devis timestamp without time zone NOT NULL DEFAULT now(),
  date_validite timestamp without time zone,
  statut character varying(50) NOT NULL DEFAULT 'brouillon'::character varying,
  montant_ht numeric(10,2) NOT NULL DEFAULT 0,
  montant_tva numeric(10,2) NOT NULL DEFAULT 0,
  montant_ttc numeric(10,2) NOT NULL DEFAULT 0,
  taux_tva numeric(5,2) NOT NULL DEFAULT 20,
  notes text,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_devis" PRIMARY KEY (id),
  CONSTRAINT "UQ_devis_numero" UNIQUE (numero)
);

CREATE INDEX "IDX_devis_societe_id" ON devis (societe_id);

CREATE TABLE produits (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  nom character varying(255) NOT NULL,
  code character varying(100),
  description text,
  "type" character varying(100),
  materiau_id uuid,
  dimensions text,
  poids numeric(10,4),
  prix_unitaire numeric(10,2),
  stock_min integer DEFAULT 0,
  stock_max integer DEFAULT 0,
  actif boolean NOT NULL DEFAULT true,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_produits" PRIMARY KEY (id),
  CONSTRAINT "UQ_produits_code" UNIQUE (code)
);

CREATE INDEX "IDX_produits_societe_id" ON produits (societe_id);

CREATE TABLE ligne_devis (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  devis_id uuid NOT NULL,
  produit_id uuid,
  description text NOT NULL,
  quantite integer NOT NULL DEFAULT 1,
  prix_unitaire numeric(10,2) NOT NULL,
  prix_total numeric(10,2) NOT NULL,
  ordre integer NOT NULL DEFAULT 0,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_ligne_devis" PRIMARY KEY (id)
);

CREATE INDEX "IDX_ligne_devis_societe_id" ON ligne_devis (societe_id);

CREATE TABLE commandes (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  numero character varying(100) NOT NULL,
  devis_id uuid,
  client_id uuid NOT NULL,
  date_commande timestamp without time zone NOT NULL DEFAULT now(),
  date_livraison_prevue timestamp without time zone,
  date_livraison_reelle timestamp without time zone,
  statut character varying(50) NOT NULL DEFAULT 'nouvelle'::character varying,
  priorite character varying(50) DEFAULT 'normale'::character varying,
  montant_ht numeric(10,2) NOT NULL DEFAULT 0,
  montant_tva numeric(10,2) NOT NULL DEFAULT 0,
  montant_ttc numeric(10,2) NOT NULL DEFAULT 0,
  notes text,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_commandes" PRIMARY KEY (id),
  CONSTRAINT "UQ_commandes_numero" UNIQUE (numero)
);

CREATE INDEX "IDX_commandes_societe_id" ON commandes (societe_id);

CREATE TABLE facturation (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  numero character varying(100) NOT NULL,
  commande_id uuid,
  client_id uuid NOT NULL,
  date_facture timestamp without time zone NOT NULL DEFAULT now(),
  date_echeance timestamp without time zone,
  date_paiement timestamp without time zone,
  montant_ht numeric(10,2) NOT NULL DEFAULT 0,
  montant_tva numeric(10,2) NOT NULL DEFAULT 0,
  montant_ttc numeric(10,2) NOT NULL DEFAULT 0,
  statut character varying(50) NOT NULL DEFAULT 'emise'::character varying,
  mode_paiement character varying(100),
  notes text,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_facturation" PRIMARY KEY (id),
  CONSTRAINT "UQ_facturation_numero" UNIQUE (numero)
);

CREATE INDEX "IDX_facturation_societe_id" ON facturation (societe_id);

CREATE TABLE stocks (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  produit_id uuid NOT NULL,
  quantite integer NOT NULL DEFAULT 0,
  quantite_reservee integer NOT NULL DEFAULT 0,
  quantite_disponible integer NOT NULL DEFAULT 0,
  cout_unitaire numeric(10,2),
  emplacement character varying(255),
  lot character varying(100),
  date_entree timestamp without time zone,
  date_peremption timestamp without time zone,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_stocks" PRIMARY KEY (id)
);

CREATE INDEX "IDX_stocks_societe_id" ON stocks (societe_id);

CREATE TABLE chutes (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  materiau_id uuid NOT NULL,
  longueur numeric(10,2),
  largeur numeric(10,2),
  epaisseur numeric(10,2),
  poids numeric(10,4),
  origine character varying(255),
  utilisable boolean NOT NULL DEFAULT true,
  emplacement character varying(255),
  notes text,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_chutes" PRIMARY KEY (id)
);

CREATE INDEX "IDX_chutes_societe_id" ON chutes (societe_id);

CREATE TABLE machines (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  nom character varying(255) NOT NULL,
  code character varying(100),
  "type" character varying(100),
  marque character varying(255),
  modele character varying(255),
  numero_serie character varying(255),
  date_achat timestamp without time zone,
  date_mise_service timestamp without time zone,
  statut character varying(50) DEFAULT 'operationnelle'::character varying,
  notes text,
  actif boolean NOT NULL DEFAULT true,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_machines" PRIMARY KEY (id),
  CONSTRAINT "UQ_machines_code" UNIQUE (code)
);

CREATE INDEX "IDX_machines_societe_id" ON machines (societe_id);

CREATE TABLE operations (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  nom character varying(255) NOT NULL,
  code character varying(100),
  description text,
  "type" character varying(100),
  machine_id uuid,
  duree_estimee integer,
  cout_horaire numeric(10,2),
  complexite character varying(50) DEFAULT 'moyenne'::character varying,
  actif boolean NOT NULL DEFAULT true,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_operations" PRIMARY KEY (id),
  CONSTRAINT "UQ_operations_code" UNIQUE (code)
);

CREATE INDEX "IDX_operations_societe_id" ON operations (societe_id);

CREATE TABLE ordre_fabrication (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  numero character varying(100) NOT NULL,
  commande_id uuid,
  produit_id uuid NOT NULL,
  quantite_demandee integer NOT NULL,
  quantite_produite integer NOT NULL DEFAULT 0,
  date_debut_prevue timestamp without time zone,
  date_fin_prevue timestamp without time zone,
  date_debut_reelle timestamp without time zone,
  date_fin_reelle timestamp without time zone,
  statut character varying(50) NOT NULL DEFAULT 'planifie'::character varying,
  priorite character varying(50) DEFAULT 'normale'::character varying,
  notes text,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_ordre_fabrication" PRIMARY KEY (id),
  CONSTRAINT "UQ_ordre_fabrication_numero" UNIQUE (numero)
);

CREATE INDEX "IDX_ordre_fabrication_societe_id" ON ordre_fabrication (societe_id);

CREATE TABLE production (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  ordre_fabrication_id uuid NOT NULL,
  operation_id uuid NOT NULL,
  machine_id uuid,
  operateur_id uuid,
  date_debut timestamp without time zone,
  date_fin timestamp without time zone,
  quantite_produite integer NOT NULL DEFAULT 0,
  quantite_defectueuse integer NOT NULL DEFAULT 0,
  temps_preparation integer,
  temps_production integer,
  statut character varying(50) NOT NULL DEFAULT 'planifie'::character varying,
  notes text,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_production" PRIMARY KEY (id)
);

CREATE INDEX "IDX_production_societe_id" ON production (societe_id);

CREATE TABLE planning (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  titre character varying(255) NOT NULL,
  description text,
  "type" character varying(100),
  date_debut timestamp without time zone NOT NULL,
  date_fin timestamp without time zone NOT NULL,
  statut character varying(50) NOT NULL DEFAULT 'planifie'::character varying,
  priorite character varying(50) DEFAULT 'normale'::character varying,
  assignee_id uuid,
  machine_id uuid,
  production_id uuid,
  notes text,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_planning" PRIMARY KEY (id)
);

CREATE INDEX "IDX_planning_societe_id" ON planning (societe_id);

CREATE TABLE qualite (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  production_id uuid NOT NULL,
  controleur_id uuid NOT NULL,
  date_controle timestamp without time zone NOT NULL DEFAULT now(),
  type_controle character varying(100),
  resultat character varying(50) NOT NULL,
  notes text,
  mesures text,
  non_conformites text,
  actions_correctives text,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_qualite" PRIMARY KEY (id)
);

CREATE INDEX "IDX_qualite_societe_id" ON qualite (societe_id);

CREATE TABLE maintenance (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  machine_id uuid NOT NULL,
  "type" character varying(100) NOT NULL,
  description text,
  date_prevue timestamp without time zone,
  date_realisee timestamp without time zone,
  duree integer,
  cout numeric(10,2),
  technicien_id uuid,
  statut character varying(50) NOT NULL DEFAULT 'planifie'::character varying,
  notes text,
  pieces_changees text,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_maintenance" PRIMARY KEY (id)
);

CREATE INDEX "IDX_maintenance_societe_id" ON maintenance (societe_id);

CREATE TABLE documents (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  nom character varying(255) NOT NULL,
  "type" character varying(100),
  taille integer,
  mime_type character varying(255),
  chemin text NOT NULL,
  url text,
  description text,
  entity_type character varying(100),
  entity_id uuid,
  uploaded_by uuid,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_documents" PRIMARY KEY (id)
);

CREATE INDEX "IDX_documents_societe_id" ON documents (societe_id);

CREATE TABLE tracabilite (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  entity_type character varying(100) NOT NULL,
  entity_id uuid NOT NULL,
  action character varying(100) NOT NULL,
  utilisateur_id uuid,
  date_action timestamp without time zone NOT NULL DEFAULT now(),
  donnees_avant text,
  donnees_apres text,
  ip_address character varying(45),
  user_agent text,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_tracabilite" PRIMARY KEY (id)
);

CREATE INDEX "IDX_tracabilite_societe_id" ON tracabilite (societe_id);

CREATE TABLE notifications (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  "type" character varying(100) NOT NULL,
  title character varying(255) NOT NULL,
  message text NOT NULL,
  data text,
  entity_type character varying(100),
  entity_id uuid,
  sender_id uuid,
  read boolean NOT NULL DEFAULT false,
  sent_at timestamp without time zone NOT NULL DEFAULT now(),
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_notifications" PRIMARY KEY (id)
);

CREATE INDEX "IDX_notifications_societe_id" ON notifications (societe_id);

CREATE TABLE notification_reads (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  notification_id uuid NOT NULL,
  user_id uuid NOT NULL,
  read_at timestamp without time zone NOT NULL DEFAULT now(),
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_notification_reads" PRIMARY KEY (id),
  CONSTRAINT "UQ_notification_reads" UNIQUE (notification_id, user_id)
);

CREATE INDEX "IDX_notification_reads_societe_id" ON notification_reads (societe_id);

CREATE TABLE notification_events (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  "type" character varying(100) NOT NULL,
  entity_type character varying(100),
  entity_id uuid,
  data text,
  processed boolean NOT NULL DEFAULT false,
  processed_at timestamp without time zone,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_notification_events" PRIMARY KEY (id)
);

CREATE INDEX "IDX_notification_events_societe_id" ON notification_events (societe_id);

CREATE TABLE notification_rules (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  name character varying(255) NOT NULL,
  event_type character varying(100) NOT NULL,
  conditions text,
  template_id uuid,
  recipients text,
  active boolean NOT NULL DEFAULT true,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_notification_rules" PRIMARY KEY (id)
);

CREATE INDEX "IDX_notification_rules_societe_id" ON notification_rules (societe_id);

CREATE TABLE notification_rule_executions (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  rule_id uuid NOT NULL,
  event_id uuid NOT NULL,
  success boolean NOT NULL DEFAULT true,
  error_message text,
  sent_at timestamp without time zone,
  version integer NOT NULL DEFAULT 1,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  deleted_at timestamp without time zone,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_notification_rule_executions" PRIMARY KEY (id)
);

CREATE INDEX "IDX_notification_rule_executions_societe_id" ON notification_rule_executions (societe_id);

CREATE TABLE query_builders (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  name character varying NOT NULL,
  description character varying,
  database character varying NOT NULL,
  "mainTable" character varying NOT NULL,
  "isPublic" boolean NOT NULL DEFAULT false,
  "maxRows" integer,
  settings jsonb,
  layout jsonb,
  "createdById" uuid NOT NULL,
  "createdAt" timestamp without time zone NOT NULL DEFAULT now(),
  "updatedAt" timestamp without time zone NOT NULL DEFAULT now(),
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_query_builders" PRIMARY KEY (id)
);

CREATE INDEX "IDX_query_builders_societe_id" ON query_builders (societe_id);

CREATE TABLE query_builder_columns (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  "queryBuilderId" uuid NOT NULL,
  "tableName" character varying NOT NULL,
  "columnName" character varying NOT NULL,
  alias character varying NOT NULL,
  label character varying NOT NULL,
  description character varying,
  "dataType" character varying NOT NULL,
  "isPrimaryKey" boolean NOT NULL DEFAULT false,
  "isForeignKey" boolean NOT NULL DEFAULT false,
  "isVisible" boolean NOT NULL DEFAULT true,
  "isFilterable" boolean NOT NULL DEFAULT true,
  "isSortable" boolean NOT NULL DEFAULT true,
  "isGroupable" boolean NOT NULL DEFAULT false,
  "displayOrder" integer NOT NULL,
  width integer,
  format jsonb,
  aggregation jsonb,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_query_builder_columns" PRIMARY KEY (id)
);

CREATE INDEX "IDX_query_builder_columns_societe_id" ON query_builder_columns (societe_id);

CREATE TABLE query_builder_joins (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  "queryBuilderId" uuid NOT NULL,
  "fromTable" character varying NOT NULL,
  "fromColumn" character varying NOT NULL,
  "toTable" character varying NOT NULL,
  "toColumn" character varying NOT NULL,
  "joinType" character varying NOT NULL,
  alias character varying NOT NULL,
  "order" integer NOT NULL,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_query_builder_joins" PRIMARY KEY (id)
);

CREATE INDEX "IDX_query_builder_joins_societe_id" ON query_builder_joins (societe_id);

CREATE TABLE query_builder_calculated_fields (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  "queryBuilderId" uuid NOT NULL,
  name character varying NOT NULL,
  label character varying NOT NULL,
  description character varying,
  expression text NOT NULL,
  "dataType" character varying NOT NULL,
  "isVisible" boolean NOT NULL DEFAULT true,
  "displayOrder" integer NOT NULL,
  format jsonb,
  dependencies jsonb,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_query_builder_calculated_fields" PRIMARY KEY (id)
);

CREATE INDEX "IDX_query_builder_calculated_fields_societe_id" ON query_builder_calculated_fields (societe_id);

CREATE TABLE query_builder_permissions (
  id uuid NOT NULL DEFAULT uuid_generate_v4(),
  "queryBuilderId" uuid NOT NULL,
  "permissionType" character varying NOT NULL,
  "userId" uuid,
  "roleId" uuid,
  "isAllowed" boolean NOT NULL DEFAULT true,
  societe_id uuid NOT NULL,
  CONSTRAINT "PK_query_builder_permissions" PRIMARY KEY (id)
);

CREATE INDEX "IDX_query_builder_permissions_societe_id" ON query_builder_permissions (societe_id);

-- Foreign keys that stay inside this database.

ALTER TABLE projets ADD CONSTRAINT "FK_projets_client" FOREIGN KEY (client_id) REFERENCES clients(id) ON DELETE CASCADE;

ALTER TABLE devis ADD CONSTRAINT "FK_devis_client" FOREIGN KEY (client_id) REFERENCES clients(id) ON DELETE CASCADE;

ALTER TABLE devis ADD CONSTRAINT "FK_devis_projet" FOREIGN KEY (projet_id) REFERENCES projets(id) ON DELETE SET NULL;

ALTER TABLE ligne_devis ADD CONSTRAINT "FK_ligne_devis_devis" FOREIGN KEY (devis_id) REFERENCES devis(id) ON DELETE CASCADE;

ALTER TABLE ligne_devis ADD CONSTRAINT "FK_ligne_devis_produit" FOREIGN KEY (produit_id) REFERENCES produits(id) ON DELETE SET NULL;

ALTER TABLE commandes ADD CONSTRAINT "FK_commandes_client" FOREIGN KEY (client_id) REFERENCES clients(id) ON DELETE CASCADE;

ALTER TABLE commandes ADD CONSTRAINT "FK_commandes_devis" FOREIGN KEY (devis_id) REFERENCES devis(id) ON DELETE SET NULL;

ALTER TABLE facturation ADD CONSTRAINT "FK_facturation_client" FOREIGN KEY (client_id) REFERENCES clients(id) ON DELETE CASCADE;

ALTER TABLE facturation ADD CONSTRAINT "FK_facturation_commande" FOREIGN KEY (commande_id) REFERENCES commandes(id) ON DELETE SET NULL;

ALTER TABLE stocks ADD CONSTRAINT "FK_stocks_produit" FOREIGN KEY (produit_id) REFERENCES produits(id) ON DELETE CASCADE;

ALTER TABLE operations ADD CONSTRAINT "FK_operations_machine" FOREIGN KEY (machine_id) REFERENCES machines(id) ON DELETE SET NULL;

ALTER TABLE ordre_fabrication ADD CONSTRAINT "FK_ordre_fabrication_commande" FOREIGN KEY (commande_id) REFERENCES commandes(id) ON DELETE SET NULL;

ALTER TABLE ordre_fabrication ADD CONSTRAINT "FK_ordre_fabrication_produit" FOREIGN KEY (produit_id) REFERENCES produits(id) ON DELETE CASCADE;

ALTER TABLE production ADD CONSTRAINT "FK_production_machine" FOREIGN KEY (machine_id) REFERENCES machines(id) ON DELETE SET NULL;

ALTER TABLE production ADD CONSTRAINT "FK_production_operation" FOREIGN KEY (operation_id) REFERENCES operations(id) ON DELETE CASCADE;

ALTER TABLE production ADD CONSTRAINT "FK_production_ordre_fabrication" FOREIGN KEY (ordre_fabrication_id) REFERENCES ordre_fabrication(id) ON DELETE CASCADE;

ALTER TABLE planning ADD CONSTRAINT "FK_planning_machine" FOREIGN KEY (machine_id) REFERENCES machines(id) ON DELETE SET NULL;

ALTER TABLE planning ADD CONSTRAINT "FK_planning_production" FOREIGN KEY (production_id) REFERENCES production(id) ON DELETE CASCADE;

ALTER TABLE qualite ADD CONSTRAINT "FK_qualite_production" FOREIGN KEY (production_id) REFERENCES production(id) ON DELETE CASCADE;

ALTER TABLE maintenance ADD CONSTRAINT "FK_maintenance_machine" FOREIGN KEY (machine_id) REFERENCES machines(id) ON DELETE CASCADE;

ALTER TABLE notification_reads ADD CONSTRAINT "FK_notification_reads_notification" FOREIGN KEY (notification_id) REFERENCES notifications(id) ON DELETE CASCADE;

ALTER TABLE notification_rule_executions ADD CONSTRAINT "FK_notification_rule_executions_event" FOREIGN KEY (event_id) REFERENCES notification_events(id) ON DELETE CASCADE;

ALTER TABLE notification_rule_executions ADD CONSTRAINT "FK_notification_rule_executions_rule" FOREIGN KEY (rule_id) REFERENCES notification_rules(id) ON DELETE CASCADE;
`;

const DOWN = `
DROP TABLE query_builder_permissions, query_builder_calculated_fields, query_builder_joins, query_builder_columns, query_builders, notification_rule_executions, notification_rules, notification_events, notification_reads, notifications, tracabilite, documents, maintenance, qualite, planning, production, ordre_fabrication, operations, machines, chutes, stocks, facturation, commandes, ligne_devis, produits, devis, projets, clients, fournisseurs CASCADE;
`;
