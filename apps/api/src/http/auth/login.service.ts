import { Injectable } from '@nestjs/common';
import { AuthenticationService } from '../../modules/access/authentication.service';
import { AccessibleSociete, TenantAccessService } from '../../modules/access/tenant-access.service';
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

/** POST /auth/login: the shared credential check, the société choice, then a signed token. */
@Injectable()
export class LoginService {
  constructor(
    private readonly authentication: AuthenticationService,
    private readonly tenantAccess: TenantAccessService,
    private readonly tokens: TokenService,
  ) {}

  async login(request: LoginRequest): Promise<LoginResponse> {
    const user = await this.authentication.authenticate(request.email, request.password);
    const societes = await this.tenantAccess.societesOf(user);
    const societe = request.societe
      ? (await this.tenantAccess.authorize(user, request.societe)).societe
      : await this.tenantAccess.defaultSociete(user);
    const { token, expiresAt } = this.tokens.sign(
      user.userId,
      societe ? (societe.societeId ?? societe.code) : null,
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
