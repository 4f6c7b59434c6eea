/**
 * Small SQL builders for the generator. Every value comes from this package's own constants or
 * from integers it computed, never from user input, so inlining them is safe; they stay
 * deterministic (md5 of a key, modular arithmetic) so that one scale always yields the same data.
 */

/** A deterministic uuid for row `indexExpression` of `table`. */
export const uid = (table: string, indexExpression: string): string =>
  `md5('${table}:' || (${indexExpression})::text)::uuid`;

/** Picks one of `values` (SQL string literals) from an integer expression. */
export const pick = (values: readonly string[], indexExpression: string): string =>
  `(ARRAY[${values.map((value) => `'${value.replace(/'/g, "''")}'`).join(', ')}])[1 + ((${indexExpression}) % ${values.length})]`;

/** `ref - (expression) * unit`, where ref is the generator's reference time. */
export const before = (expression: string, unit: 'days' | 'hours' | 'minutes'): string =>
  `(:ref::timestamp - ((${expression}) * interval '1 ${unit.slice(0, -1)}'))`;

/** Text that exercises COPY and checksums: tab, newline, backslash, quotes, accents, CJK, emoji. */
export const HOSTILE_TEXT = `'Ligne 1' || chr(10) || 'Ligne 2' || chr(9) || 'tab ' || chr(92) || 'N ' || chr(92) || ' "guillemets" ''apostrophe'' éàüç 漢字 🚀'`;

export const NOMS = [
  'Martin',
  'Bernard',
  'Thomas',
  'Petit',
  'Robert',
  'Richard',
  'Durand',
  'Dubois',
  'Moreau',
  'Laurent',
  'Simon',
  'Michel',
  'Lefèvre',
  'Leroy',
  'Roux',
  'David',
  'Bertrand',
  'Morel',
  'Fournier',
  'Girard',
] as const;

export const PRENOMS = [
  'Jean',
  'Marie',
  'Pierre',
  'Nathalie',
  'Michel',
  'Isabelle',
  'André',
  'Sylvie',
  'Philippe',
  'Catherine',
  'Louis',
  'Françoise',
  'Hélène',
  'Jérôme',
  'Émilie',
  'Gaëlle',
  'Noël',
  'Zoé',
  'Loïc',
  'Cécile',
] as const;

export const VILLES = [
  'Paris',
  'Lyon',
  'Marseille',
  'Toulouse',
  'Nantes',
  'Strasbourg',
  'Lille',
  'Bordeaux',
  'Rennes',
  'Saint-Étienne',
] as const;

export const CODES_POSTAUX = [
  '75001',
  '69002',
  '13001',
  '31000',
  '44000',
  '67000',
  '59000',
  '33000',
  '35000',
  '42000',
] as const;
