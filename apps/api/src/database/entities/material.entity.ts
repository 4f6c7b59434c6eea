import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The legacy `materiaux` columns the app reads; SHARED keeps them unchanged in `shared_materials`. */
abstract class MaterialColumns {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'varchar', nullable: true })
  code!: string | null;

  @Column({ type: 'varchar' })
  nom!: string;

  @Column({ type: 'varchar', nullable: true })
  type!: string | null;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  /** numeric(10,4): kept as the exact decimal string PostgreSQL returns. */
  @Column({ type: 'numeric', nullable: true })
  densite!: string | null;

  @Column({ type: 'numeric', name: 'prix_unitaire', nullable: true })
  prixUnitaire!: string | null;

  @Column({ type: 'varchar', nullable: true })
  unite!: string | null;

  @Column({ type: 'boolean' })
  actif!: boolean;

  @Column({ type: 'timestamp', name: 'deleted_at', nullable: true, select: false })
  deletedAt!: Date | null;
}

/** SHARED's `shared_materials` (materiaux after the split). */
@Entity({ name: 'shared_materials' })
export class SharedMaterialEntity extends MaterialColumns {}

/** The monolith's `materiaux`, read in DB_MODE=monolith. */
@Entity({ name: 'materiaux' })
export class LegacyMaterialEntity extends MaterialColumns {}
