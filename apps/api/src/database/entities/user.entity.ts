import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The legacy `users` table, as AUTH (and the monolith) keep it. Only the columns login needs are
 * mapped; `password` holds the legacy bcrypt hash, which is read, never rewritten.
 */
@Entity({ name: 'users' })
export class UserEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'varchar' })
  email!: string;

  @Column({ type: 'varchar' })
  nom!: string;

  @Column({ type: 'varchar' })
  prenom!: string;

  @Column({ type: 'varchar', select: false })
  password!: string;

  @Column({ type: 'varchar' })
  role!: string;

  @Column({ type: 'boolean' })
  actif!: boolean;

  @Column({ type: 'timestamp', name: 'deleted_at', nullable: true })
  deletedAt!: Date | null;
}
