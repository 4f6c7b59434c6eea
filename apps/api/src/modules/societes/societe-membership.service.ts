import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ConnectionOpenerService } from '../database/connection-opener.service';
import { UUID_PATTERN } from './societe-input';
import {
  serverColumn,
  SocieteRecord,
  societeReferenceCondition,
  toSocieteRecord,
} from './societe-registry.service';
import { SocieteException, SocieteExceptionCode } from './societe.exception';

/** A société as one of its members sees it. */
export type MemberSociete = {
  societeId: string;
  code: string;
  nom: string;
  status: string;
  role: string;
  isDefault: boolean;
};

export type SocieteMember = {
  userId: string;
  email: string;
  nom: string;
  prenom: string;
  role: string;
  isDefault: boolean;
  since: string;
};

type MemberSocieteRow = {
  id: string;
  code: string;
  nom: string;
  status: string;
  role: string;
  is_default: boolean;
};

const toMemberSociete = (row: MemberSocieteRow): MemberSociete => ({
  societeId: row.id,
  code: row.code,
  nom: row.nom,
  status: row.status,
  role: row.role,
  isDefault: row.is_default,
});

const MEMBER_ROLE = /^[A-Za-z_][A-Za-z0-9_-]{0,49}$/;

/**
 * `societe_users`: who belongs to which société. Reads go through the pooled AUTH DataSource because
 * the HTTP app asks on every tenant request. Only active users (not deleted, `actif`) and sociétés
 * that are not deleted count.
 */
@Injectable()
export class SocieteMembershipService {
  constructor(
    private readonly opener: ConnectionOpenerService,
    @InjectDataSource('auth') private readonly authDataSource: DataSource,
  ) {}

  /** The sociétés a user belongs to, default first. */
  async societesOf(userId: string): Promise<MemberSociete[]> {
    if (!UUID_PATTERN.test(userId)) return [];
    const auth = await this.opener.ready(this.authDataSource);
    const rows = await auth.query<MemberSocieteRow[]>(
      `SELECT s.id, s.code, s.nom, s.status, su.role, su.is_default
       FROM societe_users su JOIN societes s ON s.id = su.societe_id JOIN users u ON u.id = su.user_id
       WHERE su.user_id = $1::uuid AND s.deleted_at IS NULL AND u.deleted_at IS NULL AND u.actif
       ORDER BY su.is_default DESC, s.code`,
      [userId],
    );
    return rows.map(toMemberSociete);
  }

  /**
   * The membership of a user in a société (by id or code), with where its database lives, or null.
   * One query, so that the per-request check stays cheap.
   */
  async membership(
    userId: string,
    societeReference: string,
  ): Promise<(MemberSociete & { location: SocieteRecord; movingSince: string | null }) | null> {
    if (!UUID_PATTERN.test(userId)) return null;
    const auth = await this.opener.ready(this.authDataSource);
    const rows = await auth.query<
      (MemberSocieteRow & {
        database_name: string;
        database_host: string | null;
        database_port: number | null;
        database_server: string | null;
        moving_since: string | null;
        created_at: Date;
      })[]
    >(
      `SELECT s.id, s.code, s.nom, s.status, s.database_name, s.database_host, s.database_port, ${serverColumn('s')}, s.created_at,
              (to_jsonb(s) ->> 'moving_since') AS moving_since, su.role, su.is_default
       FROM societe_users su JOIN societes s ON s.id = su.societe_id JOIN users u ON u.id = su.user_id
       WHERE su.user_id = $1::uuid AND ${societeReferenceCondition(societeReference, '$2', 's')}
         AND s.deleted_at IS NULL AND u.deleted_at IS NULL AND u.actif`,
      [userId, societeReference],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      ...toMemberSociete(row),
      location: toSocieteRecord({ ...row, deleted_at: null }),
      // AUTH migration 003; read through the row so that an AUTH without it still answers.
      movingSince: row.moving_since,
    };
  }

  async members(societeReference: string): Promise<SocieteMember[]> {
    const auth = await this.opener.ready(this.authDataSource);
    const societeId = await this.societeId(auth.manager, societeReference);
    const rows = await auth.query<
      {
        user_id: string;
        email: string;
        nom: string;
        prenom: string;
        role: string;
        is_default: boolean;
        created_at: Date;
      }[]
    >(
      `SELECT su.user_id, u.email, u.nom, u.prenom, su.role, su.is_default, su.created_at
       FROM societe_users su JOIN users u ON u.id = su.user_id
       WHERE su.societe_id = $1::uuid ORDER BY u.email, su.user_id`,
      [societeId],
    );
    return rows.map((row) => ({
      userId: row.user_id,
      email: row.email,
      nom: row.nom,
      prenom: row.prenom,
      role: row.role,
      isDefault: row.is_default,
      since: row.created_at.toISOString(),
    }));
  }

  /**
   * Makes a user (id or exact e-mail) a member. Idempotent: an existing membership keeps its row
   * and takes the given role; `isDefault` moves the user's default société here.
   */
  async addMember(
    societeReference: string,
    userReference: string,
    options: { role?: string; isDefault?: boolean } = {},
  ): Promise<{ added: boolean; societeId: string; userId: string }> {
    const role = options.role ?? 'member';
    if (!MEMBER_ROLE.test(role)) {
      throw new SocieteException(
        SocieteExceptionCode.InvalidInput,
        'member role must be 1 to 50 letters, digits, "_" or "-"',
      );
    }
    const auth = await this.opener.ready(this.authDataSource);
    return auth.transaction(async (manager) => {
      const societeId = await this.societeId(manager, societeReference);
      const userId = await this.userId(manager, userReference);
      if (options.isDefault) {
        await manager.query(
          'UPDATE societe_users SET is_default = false WHERE user_id = $1::uuid AND societe_id <> $2::uuid AND is_default',
          [userId, societeId],
        );
      }
      const rows = await manager.query<{ inserted: boolean }[]>(
        `INSERT INTO societe_users (societe_id, user_id, role, is_default) VALUES ($1::uuid, $2::uuid, $3, $4)
         ON CONFLICT (societe_id, user_id) DO UPDATE
           SET role = EXCLUDED.role, is_default = societe_users.is_default OR EXCLUDED.is_default
         RETURNING (xmax = 0) AS inserted`,
        [societeId, userId, role, options.isDefault ?? false],
      );
      return { added: rows[0].inserted, societeId, userId };
    });
  }

  async removeMember(societeReference: string, userReference: string): Promise<{ removed: boolean }> {
    const auth = await this.opener.ready(this.authDataSource);
    return auth.transaction(async (manager) => {
      const societeId = await this.societeId(manager, societeReference);
      const userId = await this.userId(manager, userReference, { includeDeleted: true });
      // Wrapped in a SELECT: TypeORM returns [rows, count] for a bare DELETE.
      const rows = await manager.query<{ removed: number }[]>(
        `WITH deleted AS (DELETE FROM societe_users WHERE societe_id = $1::uuid AND user_id = $2::uuid RETURNING id)
         SELECT count(*)::int AS removed FROM deleted`,
        [societeId, userId],
      );
      return { removed: rows[0].removed > 0 };
    });
  }

  private async societeId(manager: EntityManager | DataSource, reference: string): Promise<string> {
    const rows = await manager.query<{ id: string }[]>(
      `SELECT id FROM societes WHERE ${societeReferenceCondition(reference, '$1')} AND deleted_at IS NULL`,
      [reference],
    );
    if (!rows[0])
      throw new SocieteException(SocieteExceptionCode.NotFound, `no société "${reference.slice(0, 64)}"`);
    return rows[0].id;
  }

  private async userId(
    manager: EntityManager,
    reference: string,
    options: { includeDeleted?: boolean } = {},
  ): Promise<string> {
    const byId = UUID_PATTERN.test(reference);
    const rows = await manager.query<{ id: string }[]>(
      `SELECT id FROM users WHERE ${byId ? 'id = $1::uuid' : 'email = $1'}
       ${options.includeDeleted ? '' : 'AND deleted_at IS NULL'}`,
      [reference],
    );
    if (rows.length !== 1)
      throw new SocieteException(SocieteExceptionCode.UserNotFound, 'no such user (by id or exact e-mail)');
    return rows[0].id;
  }
}
