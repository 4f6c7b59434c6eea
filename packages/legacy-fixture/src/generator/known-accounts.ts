/**
 * Accounts that tests and the demo rely on. The hashes are bcrypt hashes of the passwords below,
 * stored exactly as the legacy application stored them.
 */
export const ADMIN_ACCOUNT = {
  email: 'admin@topsteel.fr',
  password: 'TopSteel!2025',
  hash: '$2b$10$HEMxR1POx.NdMoEt7fNzluw27Z/63OcD6ztFA5Ae0W0BVRiSci2Mq',
} as const;

export const DEMO_ACCOUNT = {
  email: 'demo@example.com',
  password: 'Demo!2025',
  hash: '$2b$10$LmEqWxx0pASU3XtJyhJ0Ze3/9dS.3XfiDrSPlsH51dcui.zyitG6a',
} as const;

/**
 * The data-quality problems the generator seeds on purpose, so that audits and cleaning rules have
 * something real to find. Counts are independent of the scale.
 */
export const SEEDED_PROBLEMS = {
  /** Jean.Dupont@… and jean.dupont@… */
  emailCaseCollisions: 1,
  usersWithEmptyPassword: 1,
  usersWithEmptyEmail: 1,
  /** Users on the default demo domains example.com, example.org, test.local. */
  demoUsers: 3,
  /** Clients on the default demo domains. */
  demoClients: 2,
  /** documents whose entity_id points at nothing. */
  orphanDocuments: 2,
  /** query_builder_columns whose "queryBuilderId" points at nothing. */
  orphanQueryBuilderColumns: 2,
  /** tracabilite rows whose utilisateur_id is not a user. */
  danglingTracabiliteUsers: 1,
  /** Exact duplicate rows in the tables without primary key. */
  duplicateTypeormMetadataRows: 1,
  duplicateUserSettingsBackupRows: 2,
  /** Notifications read, sent more than 90 days ago and not read since (plus one re-read and two unread old ones). */
  oldReadNotifications: 3,
} as const;

/** The special users, ids 1 to 12; generic users follow. */
export const SPECIAL_USERS: ReadonlyArray<{
  nom: string;
  prenom: string;
  email: string;
  password: string;
  role: string;
  deleted?: boolean;
}> = [
  {
    nom: 'Administrateur',
    prenom: 'TopSteel',
    email: ADMIN_ACCOUNT.email,
    password: ADMIN_ACCOUNT.hash,
    role: 'ADMIN',
  },
  {
    nom: 'Dupont',
    prenom: 'Jean',
    email: 'Jean.Dupont@topsteel.fr',
    password: ADMIN_ACCOUNT.hash,
    role: 'COMMERCIAL',
  },
  {
    nom: 'Dupont',
    prenom: 'Jean',
    email: 'jean.dupont@topsteel.fr',
    password: ADMIN_ACCOUNT.hash,
    role: 'OPERATEUR',
  },
  {
    nom: 'Démo',
    prenom: 'Compte',
    email: DEMO_ACCOUNT.email,
    password: DEMO_ACCOUNT.hash,
    role: 'OPERATEUR',
  },
  {
    nom: 'Démo',
    prenom: 'Commercial',
    email: 'demo.commercial@example.org',
    password: DEMO_ACCOUNT.hash,
    role: 'COMMERCIAL',
  },
  { nom: 'Recette', prenom: 'QA', email: 'qa@test.local', password: DEMO_ACCOUNT.hash, role: 'OPERATEUR' },
  {
    nom: 'Contest',
    prenom: 'Service',
    email: 'contact@contest.fr',
    password: ADMIN_ACCOUNT.hash,
    role: 'COMMERCIAL',
  },
  {
    nom: 'Test',
    prenom: 'Alice',
    email: 'alice.test@topsteel.fr',
    password: ADMIN_ACCOUNT.hash,
    role: 'TECHNICIEN',
  },
  { nom: 'Import', prenom: 'Legacy', email: 'legacy.import@topsteel.fr', password: '', role: 'OPERATEUR' },
  { nom: 'Sans', prenom: 'Email', email: '', password: ADMIN_ACCOUNT.hash, role: 'OPERATEUR' },
  {
    nom: 'Ancien',
    prenom: 'Employé',
    email: 'ancien.employe@topsteel.fr',
    password: ADMIN_ACCOUNT.hash,
    role: 'OPERATEUR',
    deleted: true,
  },
  {
    nom: 'O\'Brien "Ça va"',
    prenom: 'Zoë',
    email: 'o.brien+quote@topsteel.fr',
    password: ADMIN_ACCOUNT.hash,
    role: 'TECHNICIEN',
  },
];
