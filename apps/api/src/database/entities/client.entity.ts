import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A société's `clients` (legacy columns, same table in the monolith). `societe_id` is not mapped:
 * the database itself is the société's.
 */
@Entity({ name: 'clients' })
export class ClientEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'varchar', name: 'numero_client', nullable: true })
  numeroClient!: string | null;

  @Column({ type: 'varchar' })
  nom!: string;

  @Column({ type: 'varchar', nullable: true })
  prenom!: string | null;

  @Column({ type: 'varchar', nullable: true })
  entreprise!: string | null;

  @Column({ type: 'varchar', nullable: true })
  email!: string | null;

  @Column({ type: 'varchar', nullable: true })
  telephone!: string | null;

  @Column({ type: 'varchar', nullable: true })
  ville!: string | null;

  @Column({ type: 'varchar', name: 'code_postal', nullable: true })
  codePostal!: string | null;

  @Column({ type: 'varchar', nullable: true })
  pays!: string | null;

  @Column({ type: 'boolean' })
  actif!: boolean;

  @Column({ type: 'timestamp', name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'timestamp', name: 'deleted_at', nullable: true, select: false })
  deletedAt!: Date | null;
}
