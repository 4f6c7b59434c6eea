import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A société's `commandes` (legacy columns, same table in the monolith); amounts stay exact decimal strings. */
@Entity({ name: 'commandes' })
export class CommandeEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'varchar' })
  numero!: string;

  @Column({ type: 'uuid', name: 'client_id' })
  clientId!: string;

  @Column({ type: 'timestamp', name: 'date_commande' })
  dateCommande!: Date;

  @Column({ type: 'timestamp', name: 'date_livraison_prevue', nullable: true })
  dateLivraisonPrevue!: Date | null;

  @Column({ type: 'varchar' })
  statut!: string;

  @Column({ type: 'varchar', nullable: true })
  priorite!: string | null;

  @Column({ type: 'numeric', name: 'montant_ht' })
  montantHt!: string;

  @Column({ type: 'numeric', name: 'montant_tva' })
  montantTva!: string;

  @Column({ type: 'numeric', name: 'montant_ttc' })
  montantTtc!: string;

  @Column({ type: 'timestamp', name: 'deleted_at', nullable: true, select: false })
  deletedAt!: Date | null;
}
