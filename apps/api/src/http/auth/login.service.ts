import { Injectable } from '@nestjs/common';
import { AccessException, AccessExceptionCode } from '../../modules/access/access.exception';
import { AuthenticationService } from '../../modules/access/authentication.service';
import { AccessibleSociete, TenantAccessService } from '../../modules/access/tenant-access.service';
import { HashGateService } from './hash-gate.service';
import { LoginThrottleService } from './login-throttle.service';
import { TokenService } from './token.service';

export type LoginRequest = { email: string; password: string; societe?: string };

export type LoginResponse = {
  accessToken: string;
  tokenType: 'Bearer';
  expiresAt: string;
  user: { id: string; email: string; nom: string; prenom: string; role: string };
  /** The société the token points at (asked for, else the default one), or null. */
  societe: AccessibleSociete | null;
  societes: AccessibleSociete[];
};

/**
 * POST /auth/login: throttling of failures (per e-mail and per client address), the shared
 * credential check under the bcrypt concurrency cap, the société choice, then a signed token.
 */
@Injectable()
export class LoginService {
  constructor(
    private readonly authentication: AuthenticationService,
    private readonly tenantAccess: TenantAccessService,
    private readonly tokens: TokenService,
    private readonly throttle: LoginThrottleService,
    private readonly hashGate: HashGateService,
  ) {}

  async login(request: LoginRequest, clientAddress: string): Promise<LoginResponse> {
    this.throttle.assertAllowed(request.email, clientAddress);
    const user = await this.hashGate
      .run(() => this.authentication.authenticate(request.email, request.password))
      .catch((error: unknown) => {
        if (error instanceof AccessException && error.code === AccessExceptionCode.InvalidCredentials)
          this.throttle.recordFailure(request.email, clientAddress);
        throw error;
      });
    this.throttle.recordSuccess(request.email);
    const societes = await this.tenantAccess.societesOf(user);
    const societe = request.societe
      ? (await this.tenantAccess.authorize(user, request.societe)).societe
      : await this.tenantAccess.defaultSociete(user);
    const { token, expiresAt } = this.tokens.sign(
      user.userId,
      societe ? (societe.societeId ?? societe.code) : null,
      this.authentication.credentialStamp(user),
    );
    return {
      accessToken: token,
      tokenType: 'Bearer',
      expiresAt,
      user: { id: user.userId, email: user.email, nom: user.nom, prenom: user.prenom, role: user.role },
      societe,
      societes,
    };
  }
}
