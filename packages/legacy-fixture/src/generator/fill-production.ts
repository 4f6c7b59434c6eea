import { TableCounts } from './scale';
import { before, pick, uid } from './sql-helpers';

/** Machines, operations, work orders, production runs, planning, quality checks, maintenance. */
export function productionStatements(counts: TableCounts): string[] {
  const c = counts;
  return [
    `INSERT INTO machines (id, nom, code, type, marque, modele, numero_serie, date_achat, date_mise_service, statut, notes, actif, version, created_at, updated_at, deleted_at)
     SELECT ${uid('machines', 'i')}, ${pick(['Plieuse', 'Cisaille', 'Poste à souder', 'Laser', 'Scie à ruban', 'Perceuse'], 'i')} || ' ' || i,
            'MAC-' || lpad(i::text, 4, '0'), ${pick(['pliage', 'découpe', 'soudure', 'perçage'], 'i')}, ${pick(['Amada', 'Trumpf', 'Bystronic', 'Lincoln'], 'i')},
            'M' || (100 + i), 'SN-' || md5('machine' || i), ${before('2000 + i', 'days')}, ${before('1950 + i', 'days')},
            ${pick(['operationnelle', 'en_panne', 'maintenance'], 'i')}, NULL, i % 11 <> 0, 1, ${before('2000', 'days')}, ${before('i', 'days')}, NULL
     FROM generate_series(1, ${c.machines}) AS i`,

    `INSERT INTO operations (id, nom, code, description, type, machine_id, duree_estimee, cout_horaire, complexite, actif, version, created_at, updated_at, deleted_at)
     SELECT ${uid('operations', 'i')}, ${pick(['Découpe', 'Pliage', 'Soudure', 'Perçage', 'Peinture', 'Contrôle'], 'i')} || ' ' || i, 'OP-' || lpad(i::text, 4, '0'),
            NULL, ${pick(['atelier', 'chantier'], 'i')}, CASE WHEN i % 4 <> 0 THEN ${uid('machines', `1 + i % ${c.machines}`)} END,
            15 + i % 120, round((35 + i % 40)::numeric, 2), ${pick(['faible', 'moyenne', 'elevee'], 'i')}, true, 1, ${before('900', 'days')}, ${before('i', 'days')}, NULL
     FROM generate_series(1, ${c.operations}) AS i`,

    `INSERT INTO ordre_fabrication (id, numero, commande_id, produit_id, quantite_demandee, quantite_produite, date_debut_prevue, date_fin_prevue,
                                    date_debut_reelle, date_fin_reelle, statut, priorite, notes, version, created_at, updated_at, deleted_at)
     SELECT ${uid('ordre_fabrication', 'i')}, 'OF-' || lpad(i::text, 8, '0'), CASE WHEN i % 5 <> 0 THEN ${uid('commandes', `1 + (i * 11) % ${c.commandes}`)} END,
            ${uid('produits', `1 + i % ${c.produits}`)}, 1 + i % 50, (1 + i % 50) * (i % 3) / 2, ${before('i % 400', 'days')}, ${before('i % 400 - 10', 'days')},
            CASE WHEN i % 3 <> 0 THEN ${before('i % 400', 'days')} END, CASE WHEN i % 3 = 2 THEN ${before('i % 400 - 9', 'days')} END,
            ${pick(['planifie', 'en_cours', 'termine', 'suspendu'], 'i')}, ${pick(['basse', 'normale', 'haute'], 'i')}, NULL, 1,
            ${before('i % 400 + 5', 'days')}, ${before('i % 40', 'days')}, CASE WHEN i % 70 = 0 THEN ${before('3', 'days')} END
     FROM generate_series(1, ${c.ordresFabrication}) AS i`,

    `INSERT INTO production (id, ordre_fabrication_id, operation_id, machine_id, operateur_id, date_debut, date_fin, quantite_produite, quantite_defectueuse,
                             temps_preparation, temps_production, statut, notes, version, created_at, updated_at, deleted_at)
     SELECT ${uid('production', 'i')}, ${uid('ordre_fabrication', `1 + i % ${c.ordresFabrication}`)}, ${uid('operations', `1 + i % ${c.operations}`)},
            CASE WHEN i % 6 <> 0 THEN ${uid('machines', `1 + i % ${c.machines}`)} END, CASE WHEN i % 8 <> 0 THEN ${uid('users', `1 + (i * 3) % ${c.users}`)} END,
            ${before('i % 300 * 24 + 8', 'hours')}, CASE WHEN i % 4 <> 0 THEN ${before('i % 300 * 24 + 2', 'hours')} END,
            i % 40, i % 3, 10 + i % 50, 60 + i % 400, ${pick(['planifie', 'en_cours', 'termine'], 'i')}, NULL, 1,
            ${before('i % 300 + 1', 'days')}, ${before('i % 300', 'days')}, NULL
     FROM generate_series(1, ${c.production}) AS i`,

    `INSERT INTO planning (id, titre, description, type, date_debut, date_fin, statut, priorite, assignee_id, machine_id, production_id, notes, version, created_at, updated_at, deleted_at)
     SELECT ${uid('planning', 'i')}, 'Créneau ' || i, NULL, ${pick(['production', 'maintenance', 'livraison'], 'i')},
            ${before('i % 200 * 24 - 8', 'hours')}, ${before('i % 200 * 24 - 12', 'hours')}, ${pick(['planifie', 'confirme', 'termine'], 'i')},
            ${pick(['normale', 'haute'], 'i')}, CASE WHEN i % 3 <> 0 THEN ${uid('users', `1 + (i * 5) % ${c.users}`)} END,
            ${uid('machines', `1 + i % ${c.machines}`)}, CASE WHEN i % 2 = 0 THEN ${uid('production', `1 + i % ${c.production}`)} END, NULL, 1,
            ${before('i % 200 + 3', 'days')}, ${before('i % 20', 'days')}, NULL
     FROM generate_series(1, ${c.planning}) AS i`,

    `INSERT INTO qualite (id, production_id, controleur_id, date_controle, type_controle, resultat, notes, mesures, non_conformites, actions_correctives,
                          version, created_at, updated_at, deleted_at)
     SELECT ${uid('qualite', 'i')}, ${uid('production', `1 + (i * 2) % ${c.production}`)}, ${uid('users', `1 + (i * 7) % ${c.users}`)},
            ${before('i % 300', 'days')}, ${pick(['visuel', 'dimensionnel', 'ressuage'], 'i')}, ${pick(['conforme', 'conforme', 'non_conforme'], 'i')},
            NULL, 'cote A: ' || (100 + i % 5) || ' mm', CASE WHEN i % 3 = 2 THEN 'Soudure poreuse' END,
            CASE WHEN i % 3 = 2 THEN 'Reprise soudure' END, 1, ${before('i % 300', 'days')}, ${before('i % 30', 'days')}, NULL
     FROM generate_series(1, ${c.qualite}) AS i`,

    `INSERT INTO maintenance (id, machine_id, type, description, date_prevue, date_realisee, duree, cout, technicien_id, statut, notes, pieces_changees,
                              version, created_at, updated_at, deleted_at)
     SELECT ${uid('maintenance', 'i')}, ${uid('machines', `1 + i % ${c.machines}`)}, ${pick(['preventive', 'corrective'], 'i')}, 'Intervention ' || i,
            ${before('i % 365 - 30', 'days')}, CASE WHEN i % 3 <> 0 THEN ${before('i % 365 - 31', 'days')} END, 30 + i % 240,
            round((50 + i % 2000 * 1.5)::numeric, 2), CASE WHEN i % 4 <> 0 THEN ${uid('users', `1 + (i * 11) % ${c.users}`)} END,
            ${pick(['planifie', 'realise', 'annule'], 'i')}, NULL, CASE WHEN i % 5 = 0 THEN 'Courroie, filtre' END, 1,
            ${before('i % 365', 'days')}, ${before('i % 30', 'days')}, NULL
     FROM generate_series(1, ${c.maintenance}) AS i`,
  ];
}
