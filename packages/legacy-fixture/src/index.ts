export { LEGACY_SCHEMA_PATH, legacyTableNames, readLegacySchema } from './legacy-schema';
export { defaultReferenceDate, generateMonolith } from './generate-monolith';
export type { GenerateMonolithOptions, GenerateMonolithReport } from './generate-monolith';
export { DISTRIBUTIONS, tableCounts } from './generator/scale';
export type { Distribution, TableCounts } from './generator/scale';
export { ADMIN_ACCOUNT, DEMO_ACCOUNT, SEEDED_PROBLEMS, SPECIAL_USERS } from './generator/known-accounts';
