import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { compare } from 'bcryptjs';
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
/**
 * Compared against when no user matches, so that an unknown e-mail costs the same time as a wrong
 * password and response times do not reveal which addresses exist. Hash of a discarded random string.
 */
const TIMING_HASH = '$2b$10$YxXAAHQWD3xHCbR3llvgEeV7CG4eUUXXtKoxiwlcczHHHlK8csjJi';
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
    const hash = user && BCRYPT_HASH.test(user.password) ? user.password : TIMING_HASH;
    const matches = await compare(password, hash);
    if (!user || hash === TIMING_HASH || !matches || !user.actif || user.deletedAt) throw invalid();
    return this.issue(user);
  }

  /** The principal behind a verified token, provided its user still exists and is active. */
  async principal(userId: string): Promise<AuthenticatedUser> {
    const invalid = () =>
      new AccessException(AccessExceptionCode.TokenInvalid, 'the token does not name an active user');
    if (!UUID_PATTERN.test(userId)) throw invalid();
    const users = await this.users();
    const user = await users
      .createQueryBuilder('account')
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
    return principal;
  }
}
