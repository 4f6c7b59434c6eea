import { EntitySchema } from 'typeorm';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type EntityList = (Function | EntitySchema)[];

/**
 * Entities the runtime maps on each kind of database. The migrations, not these classes, own the
 * schema (synchronize is always off), so an entity may map only the columns the app reads.
 */
export const AUTH_ENTITIES: EntityList = [];
export const SHARED_ENTITIES: EntityList = [];
export const TENANT_ENTITIES: EntityList = [];
