import { EntitySchema } from 'typeorm';
import { UserEntity } from './user.entity';
import { LegacyMaterialEntity, SharedMaterialEntity } from './material.entity';
import { ClientEntity } from './client.entity';
import { CommandeEntity } from './commande.entity';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type EntityList = (Function | EntitySchema)[];

/**
 * Entities the runtime maps on each kind of database. The migrations, not these classes, own the
 * schema (synchronize is always off), so an entity may map only the columns the app reads.
 */
export const AUTH_ENTITIES: EntityList = [UserEntity];
export const SHARED_ENTITIES: EntityList = [SharedMaterialEntity];
export const TENANT_ENTITIES: EntityList = [ClientEntity, CommandeEntity];
/** The monolith, read by the app in DB_MODE=monolith (after a rollback): the same legacy tables. */
export const MONOLITH_ENTITIES: EntityList = [UserEntity, ClientEntity, CommandeEntity, LegacyMaterialEntity];
