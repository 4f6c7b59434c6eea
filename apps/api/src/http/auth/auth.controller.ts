import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { objectBody, optionalString, requiredString } from '../request-input';
import { Public } from './auth.guard';
import { LoginResponse, LoginService } from './login.service';

@Controller('auth')
export class AuthController {
  constructor(private readonly loginService: LoginService) {}

  /** Body: { email, password, societe? } (société id or code). 401 on bad credentials. */
  @Public()
  @Post('login')
  @HttpCode(200)
  login(@Body() body: unknown): Promise<LoginResponse> {
    const fields = objectBody(body);
    return this.loginService.login({
      email: requiredString(fields, 'email', 255),
      password: requiredString(fields, 'password', 1024),
      societe: optionalString(fields, 'societe', 64),
    });
  }
}
