import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { compare, hash as bcryptHash } from 'bcryptjs';
import { createHash, randomBytes } from 'node:crypto';
import { UUID_PATTERN } from '../societes/societe-input';
import { AccessException, AccessExceptionCode } from './access.exception';
import { Repository } from 'typeorm';
import { UserEntity } from '../../database/entities/user.entity';
import { ConnectionOpenerService } from '../database/connection-opener.service';
import { DataModeService } from '../database/data-mode.service';

/** A user whose credentials or token were checked by AuthenticationService, and only by it. */
export type AuthenticatedUser = Readonly<{
  userId: string;
  email: string;
  nom: string;
  prenom: string;
  role: string;
}>;

/** Legacy hashes are bcrypt ($2a$/$2b$/$2y$); anything else (an empty password) never matches. */
const BCRYPT_HASH = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;
/** Cost of the timing hash when the users table holds no bcrypt hash to learn it from. */
const DEFAULT_BCRYPT_COST = 10;
const MAX_EMAIL_LENGTH = 255;
const MAX_PASSWORD_LENGTH = 1024;

/**
 * Checks credentials against the legacy `users` table (AUTH, or the monolith in monolith mode)
 * with the legacy bcrypt hashes as they are. The HTTP login and `db:verify` both go through
 * `authenticate`, so verify proves exactly what users will experience.
 */
@Injectable()
export class AuthenticationService {
  /** Principals this service produced; tenant access refuses any other object. */
  readonly #issued = new WeakSet<AuthenticatedUser>();
  /** Digest of each principal's password hash when it was read, for token revocation. */
  readonly #credentialStamps = new WeakMap<AuthenticatedUser, string>();
  #timingHash?: Promise<string>;

  constructor(
    private readonly dataMode: DataModeService,
    private readonly opener: ConnectionOpenerService,
    @InjectRepository(UserEntity, 'auth') private readonly authUsers: Repository<UserEntity>,
    @InjectRepository(UserEntity, 'monolith') private readonly monolithUsers: Repository<UserEntity>,
  ) {}

  async authenticate(email: string, password: string): Promise<AuthenticatedUser> {
    const invalid = () =>
      new AccessException(AccessExceptionCode.InvalidCredentials, 'invalid e-mail address or password');
    if (
      typeof email !== 'string' ||
      typeof password !== 'string' ||
      email.trim() === '' ||
      email.length > MAX_EMAIL_LENGTH ||
      password === '' ||
      password.length > MAX_PASSWORD_LENGTH
    ) {
      throw invalid();
    }
    const user = await this.findByEmail(email.trim());
    const usable = user !== null && BCRYPT_HASH.test(user.password);
    const matches = await compare(password, usable ? user.password : await this.timingHash());
    if (!user || !usable || !matches || !user.actif || user.deletedAt) throw invalid();
    return this.issue(user);
  }

  /**
   * Compared against when no user (or no usable hash) matches, so that an unknown e-mail costs the
   * same time as a wrong password and response times do not reveal which addresses exist. Its bcrypt
   * cost is the one most legacy hashes use (a cheaper dummy would make unknown e-mails answer faster).
   */
  timingHash(): Promise<string> {
    this.#timingHash ??= this.legacyCost()
      .then((cost) => bcryptHash(randomBytes(16).toString('hex'), cost))
      .catch((error: unknown) => {
        this.#timingHash = undefined;
        throw error;
      });
    return this.#timingHash;
  }

  /** The digest of the password hash the user had when authenticated; changes when the password does. */
  credentialStamp(user: AuthenticatedUser): string {
    const stamp = this.#credentialStamps.get(user);
    if (stamp === undefined)
      throw new AccessException(AccessExceptionCode.TokenInvalid, 'the user was not authenticated');
    return stamp;
  }

  private async legacyCost(): Promise<number> {
    const rows = await (
      await this.users()
    ).query<{ cost: number }[]>(
      `SELECT substring(password FROM 5 FOR 2)::int AS cost FROM users
       WHERE password ~ '^\\$2[aby]\\$[0-9]{2}\\$' GROUP BY 1 ORDER BY count(*) DESC, 1 DESC LIMIT 1`,
    );
    const cost = rows[0]?.cost ?? DEFAULT_BCRYPT_COST;
    // bcrypt's own bounds; a corrupt row must not make every unknown e-mail hash for minutes.
    return Math.min(Math.max(cost, 4), 16);
  }

  /** The principal behind a verified token, provided its user still exists and is active. */
  async principal(userId: string): Promise<AuthenticatedUser> {
    const invalid = () =>
      new AccessException(AccessExceptionCode.TokenInvalid, 'the token does not name an active user');
    if (!UUID_PATTERN.test(userId)) throw invalid();
    const users = await this.users();
    const user = await users
      .createQueryBuilder('account')
      .addSelect('account.password')
      .where('account.id = :id', { id: userId })
      .andWhere('account.deletedAt IS NULL')
      .andWhere('account.actif = true')
      .getOne();
    if (!user) throw invalid();
    return this.issue(user);
  }

  isIssued(user: AuthenticatedUser): boolean {
    return this.#issued.has(user);
  }

  /**
   * Exact e-mail first; else a case-insensitive match, but only when it is unambiguous (the legacy
   * data has addresses that differ only by case, and guessing between two accounts is not an option).
   */
  private async findByEmail(email: string): Promise<UserEntity | null> {
    const users = await this.users();
    const query = () => users.createQueryBuilder('account').addSelect('account.password');
    const exact = await query().where('account.email = :email', { email }).getMany();
    if (exact.length === 1) return exact[0];
    if (exact.length > 1) return null;
    const folded = await query()
      .where('lower(account.email) = lower(:email)', { email })
      .andWhere('account.deletedAt IS NULL')
      .limit(2)
      .getMany();
    return folded.length === 1 ? folded[0] : null;
  }

  /** `users` in AUTH, or in the monolith in monolith mode. */
  private users(): Promise<Repository<UserEntity>> {
    return this.opener.ready(this.dataMode.isMonolith ? this.monolithUsers : this.authUsers);
  }

  private issue(user: UserEntity): AuthenticatedUser {
    const principal: AuthenticatedUser = Object.freeze({
      userId: user.id,
      email: user.email,
      nom: user.nom,
      prenom: user.prenom,
      role: user.role,
    });
    this.#issued.add(principal);
    this.#credentialStamps.set(
      principal,
      createHash('sha256')
        .update(user.password ?? '')
        .digest('hex'),
    );
    return principal;
  }
}
