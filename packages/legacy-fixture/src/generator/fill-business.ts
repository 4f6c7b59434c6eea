import { TableCounts } from './scale';
import { before, CODES_POSTAUX, HOSTILE_TEXT, NOMS, pick, PRENOMS, uid, VILLES } from './sql-helpers';

const SOCIETES = [
  'Aciers',
  'Métaux',
  'Tôlerie',
  'Chaudronnerie',
  'Serrurerie',
  'Charpente',
  'Inox',
  'Forge',
] as const;
const MATIERES = [
  'Acier S235',
  'Acier S355',
  'Inox 304L',
  'Inox 316L',
  'Aluminium 5754',
  'Galvanisé',
  'Cuivre',
  'Laiton',
] as const;

/** Suppliers, materials, products, stock, offcuts, clients, projects, quotes, orders, invoices. */
export function businessStatements(counts: TableCounts): string[] {
  const c = counts;
  return [
    `INSERT INTO fournisseurs (id, nom, code, email, telephone, adresse, ville, code_postal, pays, siret, tva, notes, actif, version, created_at, updated_at, deleted_at)
     SELECT ${uid('fournisseurs', 'i')}, ${pick(SOCIETES, 'i')} || ' ' || ${pick(VILLES, 'i * 3')} || ' ' || i, 'F' || lpad(i::text, 5, '0'),
            CASE WHEN i % 6 <> 0 THEN 'contact' || i || '@fournisseur' || i || '.fr' END, '04 7' || lpad((i % 100)::text, 2, '0') || ' 00 00 00',
            i || ' rue de l''Industrie', ${pick(VILLES, 'i * 3')}, ${pick(CODES_POSTAUX, 'i * 3')}, CASE WHEN i % 9 = 0 THEN 'Belgique' ELSE 'France' END,
            lpad((i * 7919)::text, 14, '3'), 'FR' || lpad((i * 31)::text, 11, '0'), CASE WHEN i = 1 THEN ${HOSTILE_TEXT} END,
            i % 13 <> 0, 1, ${before('900 - i % 300', 'days')}, ${before('i % 40', 'days')}, CASE WHEN i % 17 = 0 THEN ${before('15', 'days')} END
     FROM generate_series(1, ${c.fournisseurs}) AS i`,

    `INSERT INTO materiaux (id, nom, code, type, description, densite, prix_unitaire, unite, fournisseur_id, actif, version, created_at, updated_at, deleted_at)
     SELECT ${uid('materiaux', 'i')}, ${pick(MATIERES, 'i')} || ' ép. ' || (1 + i % 20) || ' mm', 'MAT-' || lpad(i::text, 5, '0'),
            ${pick(['tôle', 'tube', 'profilé', 'rond', 'plat'], 'i')}, CASE WHEN i % 3 = 0 THEN 'Matière certifiée EN 10204 3.1' END,
            round((7.85 + (i % 10) * 0.01)::numeric, 4), round((0.8 + (i % 50) * 0.37)::numeric, 2), ${pick(['kg', 'm', 'm²', 'pièce'], 'i')},
            CASE WHEN i % 5 <> 0 THEN ${uid('fournisseurs', `1 + i % ${c.fournisseurs}`)} END,
            i % 19 <> 0, 1, ${before('800', 'days')}, ${before('i % 60', 'days')}, CASE WHEN i % 29 = 0 THEN ${before('9', 'days')} END
     FROM generate_series(1, ${c.materiaux}) AS i`,

    `INSERT INTO produits (id, nom, code, description, type, materiau_id, dimensions, poids, prix_unitaire, stock_min, stock_max, actif, version, created_at, updated_at, deleted_at)
     SELECT ${uid('produits', 'i')}, ${pick(['Platine', 'Équerre', 'Garde-corps', 'Poutre IPN', 'Escalier', 'Portail', 'Support', 'Châssis'], 'i')} || ' ' || i,
            'PRD-' || lpad(i::text, 6, '0'), CASE WHEN i % 4 = 0 THEN 'Produit fabriqué sur mesure' END, ${pick(['standard', 'sur-mesure', 'négoce'], 'i')},
            CASE WHEN i % 7 <> 0 THEN ${uid('materiaux', `1 + i % ${c.materiaux}`)} END, (100 + i % 900) || 'x' || (50 + i % 300) || 'x' || (2 + i % 20),
            round((1 + (i % 500) * 0.731)::numeric, 4), round((5 + (i % 1000) * 1.13)::numeric, 2), i % 10, 100 + i % 50,
            i % 31 <> 0, 1 + i % 2, ${before('700', 'days')}, ${before('i % 30', 'days')}, CASE WHEN i % 37 = 0 THEN ${before('12', 'days')} END
     FROM generate_series(1, ${c.produits}) AS i`,

    `INSERT INTO stocks (id, produit_id, quantite, quantite_reservee, quantite_disponible, cout_unitaire, emplacement, lot, date_entree, date_peremption, version, created_at, updated_at, deleted_at)
     SELECT ${uid('stocks', 'i')}, ${uid('produits', `1 + (i - 1) % ${c.produits}`)}, i % 200, i % 20, i % 200 - i % 20, round((3 + (i % 700) * 0.91)::numeric, 2),
            'Allée ' || chr(65 + i % 6) || '-' || (i % 40), 'LOT-' || to_char(${before('i % 365', 'days')}, 'YYYYMMDD'),
            ${before('i % 365', 'days')}, NULL, 1, ${before('400', 'days')}, ${before('i % 10', 'days')}, NULL
     FROM generate_series(1, ${c.stocks}) AS i`,

    `INSERT INTO chutes (id, materiau_id, longueur, largeur, epaisseur, poids, origine, utilisable, emplacement, notes, version, created_at, updated_at, deleted_at)
     SELECT ${uid('chutes', 'i')}, ${uid('materiaux', `1 + i % ${c.materiaux}`)}, round((100 + i % 2000)::numeric, 2), round((50 + i % 1000)::numeric, 2),
            round((1 + i % 25)::numeric, 2), round(((i % 300) * 0.117)::numeric, 4), 'OF-' || i, i % 8 <> 0, 'Rack ' || (i % 12),
            NULL, 1, ${before('i % 300', 'days')}, ${before('i % 20', 'days')}, CASE WHEN i % 23 = 0 THEN ${before('2', 'days')} END
     FROM generate_series(1, ${c.chutes}) AS i`,

    // Client 1 and 2 are demo accounts (example.org, test.local); client 3 is a real "Contest" customer.
    `INSERT INTO clients (id, nom, prenom, email, telephone, adresse, ville, code_postal, pays, entreprise, siret, numero_client, actif, notes, version, created_at, updated_at, deleted_at)
     SELECT ${uid('clients', 'i')},
            CASE i WHEN 1 THEN 'Client Démo' WHEN 2 THEN 'Recette' WHEN 3 THEN 'Contest' ELSE ${pick(NOMS, 'i * 13')} END,
            ${pick(PRENOMS, 'i * 11')},
            CASE i WHEN 1 THEN 'client@example.org' WHEN 2 THEN 'achats@test.local' WHEN 3 THEN 'achats@contest.fr'
                   ELSE CASE WHEN i % 8 <> 0 THEN 'client' || i || '@' || lower(${pick(['acier', 'metal', 'batiment', 'renov', 'atelier'], 'i')}) || '-' || i % 997 || '.fr' END END,
            CASE WHEN i % 5 <> 0 THEN '06 ' || lpad((i % 100)::text, 2, '0') || ' ' || lpad((i / 100 % 100)::text, 2, '0') || ' 00 00' END,
            (1 + i % 300) || ', avenue ' || ${pick(['Jean Jaurès', 'de la République', 'Victor Hugo', 'des Forges', 'du Général de Gaulle'], 'i')},
            ${pick(VILLES, 'i')}, ${pick(CODES_POSTAUX, 'i')}, 'France', ${pick(SOCIETES, 'i')} || ' ' || ${pick(NOMS, 'i * 13')} || ' SARL',
            CASE WHEN i % 3 <> 0 THEN lpad((i::bigint * 104729 % 100000000000000)::text, 14, '0') END, 'CLI-' || lpad(i::text, 8, '0'),
            i % 29 <> 0, CASE WHEN i = 4 THEN ${HOSTILE_TEXT} WHEN i = 5 THEN repeat('Note très longue. ', 600) WHEN i % 10 = 0 THEN 'Client historique' END,
            1 + i % 4, ${before('1500 - i % 1400', 'days')}, ${before('i % 90', 'days')}, CASE WHEN i % 40 = 0 THEN ${before('1 + i % 100', 'days')} END
     FROM generate_series(1, ${c.clients}) AS i`,

    `INSERT INTO projets (id, nom, description, client_id, statut, date_debut, date_fin_prevue, date_fin_reelle, budget_estime, budget_reel, priorite, notes, version, created_at, updated_at, deleted_at)
     SELECT ${uid('projets', 'i')}, 'Projet ' || ${pick(['Hangar', 'Passerelle', 'Mezzanine', 'Escalier', 'Verrière'], 'i')} || ' ' || i, NULL,
            ${uid('clients', `1 + (i * 7) % ${c.clients}`)}, ${pick(['nouveau', 'en_cours', 'termine', 'annule'], 'i')},
            ${before('300 - i % 250', 'days')}, ${before('100 - i % 150', 'days')}, CASE WHEN i % 4 = 2 THEN ${before('i % 50', 'days')} END,
            round((1000 + (i % 500) * 97.5)::numeric, 2), CASE WHEN i % 4 = 2 THEN round((900 + (i % 500) * 99.1)::numeric, 2) END,
            ${pick(['basse', 'moyenne', 'haute'], 'i')}, NULL, 1, ${before('320', 'days')}, ${before('i % 30', 'days')},
            CASE WHEN i % 33 = 0 THEN ${before('4', 'days')} END
     FROM generate_series(1, ${c.projets}) AS i`,

    `INSERT INTO devis (id, numero, client_id, projet_id, date_devis, date_validite, statut, montant_ht, montant_tva, montant_ttc, taux_tva, notes, version, created_at, updated_at, deleted_at)
     SELECT ${uid('devis', 'i')}, 'DEV-' || lpad(i::text, 8, '0'), ${uid('clients', `1 + (i * 3) % ${c.clients}`)},
            CASE WHEN i % 3 = 0 THEN ${uid('projets', `1 + i % ${c.projets}`)} END, ${before('i % 700', 'days')}, ${before('i % 700 - 30', 'days')},
            ${pick(['brouillon', 'envoye', 'accepte', 'refuse', 'expire'], 'i')},
            CASE WHEN i = 1 THEN 83333333.33 ELSE round(((i % 5000) * 12.5 + 100)::numeric, 2) END,
            CASE WHEN i = 1 THEN 16666666.66 ELSE round((((i % 5000) * 12.5 + 100) * 0.2)::numeric, 2) END,
            CASE WHEN i = 1 THEN 99999999.99 ELSE round((((i % 5000) * 12.5 + 100) * 1.2)::numeric, 2) END,
            CASE WHEN i % 20 = 0 THEN 5.5 ELSE 20 END, NULL, 1, ${before('i % 700', 'days')}, ${before('i % 100', 'days')},
            CASE WHEN i % 45 = 0 THEN ${before('6', 'days')} END
     FROM generate_series(1, ${c.devis}) AS i`,

    `INSERT INTO ligne_devis (id, devis_id, produit_id, description, quantite, prix_unitaire, prix_total, ordre, version, created_at, updated_at, deleted_at)
     SELECT ${uid('ligne_devis', "d || '-' || l")}, ${uid('devis', 'd')}, CASE WHEN (d + l) % 6 <> 0 THEN ${uid('produits', `1 + (d * 5 + l) % ${c.produits}`)} END,
            CASE WHEN d = 2 AND l = 1 THEN ${HOSTILE_TEXT} ELSE 'Fourniture et pose ' || l END, 1 + (d + l) % 12,
            round((10 + ((d + l) % 400) * 2.25)::numeric, 2), round(((1 + (d + l) % 12) * (10 + ((d + l) % 400) * 2.25))::numeric, 2),
            l, 1, ${before('d % 700', 'days')}, ${before('d % 100', 'days')}, NULL
     FROM generate_series(1, ${c.devis}) AS d, generate_series(1, 2) AS l`,

    // Commande 1 has an 'infinity' delivery date: it happens in real data and must survive COPY and checksums.
    `INSERT INTO commandes (id, numero, devis_id, client_id, date_commande, date_livraison_prevue, date_livraison_reelle, statut, priorite,
                            montant_ht, montant_tva, montant_ttc, notes, version, created_at, updated_at, deleted_at)
     SELECT ${uid('commandes', 'i')}, 'CMD-' || lpad(i::text, 9, '0'), CASE WHEN i % 10 = 0 THEN ${uid('devis', `1 + i % ${c.devis}`)} END,
            ${uid('clients', `1 + (i * 17) % ${c.clients}`)}, ${before('i % 1000', 'days')}, ${before('i % 1000 - 21', 'days')},
            CASE WHEN i = 1 THEN 'infinity'::timestamp WHEN i % 3 = 0 THEN ${before('i % 1000 - 25', 'days')} END,
            ${pick(['nouvelle', 'confirmee', 'en_production', 'livree', 'facturee', 'annulee'], 'i')}, ${pick(['basse', 'normale', 'haute', 'urgente'], 'i')},
            round(((i % 10000) * 3.5 + 50)::numeric, 2), round((((i % 10000) * 3.5 + 50) * 0.2)::numeric, 2),
            round((((i % 10000) * 3.5 + 50) * 1.2)::numeric, 2),
            CASE WHEN i = 2 THEN ${HOSTILE_TEXT} WHEN i % 7 = 0 THEN 'Livraison sur chantier, prévenir 24h avant' END,
            1 + i % 5, ${before('i % 1000', 'days')}, ${before('i % 200', 'days')}, CASE WHEN i % 50 = 0 THEN ${before('i % 30', 'days')} END
     FROM generate_series(1, ${c.commandes}) AS i`,

    `INSERT INTO facturation (id, numero, commande_id, client_id, date_facture, date_echeance, date_paiement, montant_ht, montant_tva, montant_ttc,
                              statut, mode_paiement, notes, version, created_at, updated_at, deleted_at)
     SELECT ${uid('facturation', 'i')}, 'FAC-' || lpad(i::text, 9, '0'), CASE WHEN i % 9 <> 0 THEN ${uid('commandes', `1 + (i * 3) % ${c.commandes}`)} END,
            ${uid('clients', `1 + (i * 17 * 3) % ${c.clients}`)}, ${before('i % 900', 'days')}, ${before('i % 900 - 30', 'days')},
            CASE WHEN i % 4 <> 0 THEN ${before('i % 900 - 20', 'days')} END,
            round(((i % 8000) * 4.25 + 80)::numeric, 2), round((((i % 8000) * 4.25 + 80) * 0.2)::numeric, 2),
            round((((i % 8000) * 4.25 + 80) * 1.2)::numeric, 2), ${pick(['emise', 'payee', 'en_retard', 'annulee'], 'i')},
            CASE WHEN i % 4 <> 0 THEN ${pick(['virement', 'chèque', 'LCR', 'carte'], 'i')} END, NULL,
            1, ${before('i % 900', 'days')}, ${before('i % 100', 'days')}, CASE WHEN i % 60 = 0 THEN ${before('5', 'days')} END
     FROM generate_series(1, ${c.facturation}) AS i`,

    // Two documents point at nothing (entity_id has no FK in the monolith).
    `INSERT INTO documents (id, nom, type, taille, mime_type, chemin, url, description, entity_type, entity_id, uploaded_by, version, created_at, updated_at, deleted_at)
     SELECT ${uid('documents', 'i')}, 'document-' || i || '.pdf', ${pick(['plan', 'certificat', 'bon_livraison', 'photo'], 'i')}, 1000 + i * 37,
            'application/pdf', '/var/topsteel/documents/' || i || '.pdf', NULL, NULL,
            CASE WHEN i % 2 = 0 THEN 'commande' ELSE 'client' END,
            CASE WHEN i <= 2 THEN ${uid('orphan-documents', 'i')}
                 WHEN i % 2 = 0 THEN ${uid('commandes', `1 + i % ${c.commandes}`)} ELSE ${uid('clients', `1 + i % ${c.clients}`)} END,
            ${uid('users', `1 + i % ${c.users}`)}, 1, ${before('i % 500', 'days')}, ${before('i % 50', 'days')},
            CASE WHEN i % 25 = 0 THEN ${before('7', 'days')} END
     FROM generate_series(1, ${c.documents}) AS i`,

    // One audit row names a user that does not exist (utilisateur_id has no FK).
    `INSERT INTO tracabilite (id, entity_type, entity_id, action, utilisateur_id, date_action, donnees_avant, donnees_apres, ip_address, user_agent, version, created_at, updated_at, deleted_at)
     SELECT ${uid('tracabilite', 'i')}, ${pick(['commande', 'client', 'facture', 'devis'], 'i')},
            CASE i % 4 WHEN 0 THEN ${uid('commandes', `1 + i % ${c.commandes}`)} WHEN 1 THEN ${uid('clients', `1 + i % ${c.clients}`)}
                       WHEN 2 THEN ${uid('facturation', `1 + i % ${c.facturation}`)} ELSE ${uid('devis', `1 + i % ${c.devis}`)} END,
            ${pick(['CREATE', 'UPDATE', 'DELETE', 'VIEW'], 'i')},
            CASE WHEN i = 1 THEN ${uid('users', '-42')} WHEN i % 6 <> 0 THEN ${uid('users', `1 + i % ${c.users}`)} END,
            ${before('i % 2000', 'hours')}, CASE WHEN i % 4 = 1 THEN '{"statut":"nouvelle"}' END, '{"statut":"confirmee"}',
            '192.168.' || (i % 255) || '.' || (i * 7 % 255), 'Mozilla/5.0', 1, ${before('i % 2000', 'hours')}, ${before('i % 2000', 'hours')}, NULL
     FROM generate_series(1, ${c.tracabilite}) AS i`,
  ];
}
