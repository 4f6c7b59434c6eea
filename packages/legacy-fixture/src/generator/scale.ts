/**
 * How the rows spread over the tables. `spread` is the contract monolith (many mid-sized tables);
 * `one-large-table` is the usual ERP shape where one table dwarfs the rest: at scale 1000,
 * 1,000,000 commandes, then 300,000 facturation, 200,000 clients, 100,000 stocks, everything else
 * small. A bench that only knew the first shape hid that one table copied by one worker.
 */
export type Distribution = 'spread' | 'one-large-table';

export const DISTRIBUTIONS: readonly Distribution[] = ['spread', 'one-large-table'];

/**
 * Row counts per table for a scale. Scale 1 is a small company (1,000 commandes); scale 1000 is the
 * contract monolith of DESIGN.md section 7 (1,000,000 commandes, 200,000 clients, 300,000 factures).
 */
export type TableCounts = {
  users: number;
  clients: number;
  projets: number;
  devis: number;
  commandes: number;
  facturation: number;
  fournisseurs: number;
  materiaux: number;
  produits: number;
  stocks: number;
  chutes: number;
  machines: number;
  operations: number;
  ordresFabrication: number;
  production: number;
  planning: number;
  qualite: number;
  maintenance: number;
  documents: number;
  tracabilite: number;
  notifications: number;
  notificationEvents: number;
  ruleExecutions: number;
};

export function tableCounts(scale: number, distribution: Distribution = 'spread'): TableCounts {
  if (!DISTRIBUTIONS.includes(distribution)) {
    throw new RangeError(
      `distribution must be one of ${DISTRIBUTIONS.join(', ')}, got ${String(distribution)}`,
    );
  }
  if (distribution === 'one-large-table') return oneLargeTableCounts(scale);
  return spreadCounts(scale);
}

// The large tables keep the spread shape's per-scale counts; all the others shrink a hundredfold.
const SMALL_TABLES_DIVISOR = 100;

function oneLargeTableCounts(scale: number): TableCounts {
  const large = spreadCounts(scale);
  return {
    ...spreadCounts(scale / SMALL_TABLES_DIVISOR),
    commandes: large.commandes,
    facturation: large.facturation,
    clients: large.clients,
    stocks: Math.max(10, Math.round(100 * scale)),
  };
}

function spreadCounts(scale: number): TableCounts {
  if (!Number.isFinite(scale) || scale <= 0 || scale > 100_000) {
    throw new RangeError(`scale must be a number in (0, 100000], got ${scale}`);
  }
  const count = (base: number, perScale: number, minimum = 1): number =>
    Math.max(minimum, Math.round(base + perScale * scale));
  return {
    users: count(40, 2, 20),
    clients: count(0, 200, 10),
    projets: count(0, 20, 3),
    devis: count(0, 100, 5),
    commandes: count(0, 1000, 10),
    facturation: count(0, 300, 5),
    fournisseurs: count(10, 0.1),
    materiaux: count(30, 0.05),
    produits: count(50, 5),
    // One stock line per product in this shape.
    stocks: count(50, 5),
    chutes: count(20, 2),
    machines: count(8, 0.02),
    operations: count(20, 0.02),
    ordresFabrication: count(0, 30, 5),
    production: count(0, 40, 5),
    planning: count(0, 15, 3),
    qualite: count(0, 15, 3),
    maintenance: count(5, 1),
    documents: count(0, 20, 5),
    tracabilite: count(0, 80, 5),
    notifications: count(0, 20, 5),
    notificationEvents: count(0, 10, 5),
    ruleExecutions: count(0, 10, 5),
  };
}
