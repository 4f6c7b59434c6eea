import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import type { HttpRequest } from '../http-context';
import { objectBody, optionalString, requiredString } from '../request-input';
import { Public } from './auth.guard';
import { LoginResponse, LoginService } from './login.service';

@Controller('auth')
export class AuthController {
  constructor(private readonly loginService: LoginService) {}

  /**
   * Body: { email, password, societe? } (société id or code). 401 on bad credentials, 429 with
   * Retry-After once the e-mail or the client address has failed too often.
   */
  @Public()
  @Post('login')
  @HttpCode(200)
  login(@Body() body: unknown, @Req() request: HttpRequest): Promise<LoginResponse> {
    const fields = objectBody(body);
    // The TCP peer: X-Forwarded-For is not trusted, as anybody can send it (see docs/security.md).
    const clientAddress = request.socket.remoteAddress ?? 'unknown';
    return this.loginService.login(
      {
        email: requiredString(fields, 'email', 255),
        password: requiredString(fields, 'password', 1024),
        societe: optionalString(fields, 'societe', 64),
      },
      clientAddress,
    );
  }
}
