import { BadRequestException } from '@nestjs/common';
import { Page, parsePage } from '../common/pagination/page';

/** `?limit=&offset=` or 400 naming the parameter. */
export function pageFrom(query: Record<string, unknown> | undefined): Page {
  const page = parsePage(query ?? {});
  if ('parameter' in page) throw new BadRequestException(`${page.parameter} ${page.reason}`);
  return page;
}

/** A JSON object body, or 400. */
export function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new BadRequestException('the body must be a JSON object');
  return body as Record<string, unknown>;
}

export function requiredString(body: Record<string, unknown>, field: string, maximum = 1024): string {
  const value = body[field];
  if (typeof value !== 'string' || value.length === 0 || value.length > maximum)
    throw new BadRequestException(`${field} must be a non-empty string of at most ${maximum} characters`);
  return value;
}

export function optionalString(
  body: Record<string, unknown>,
  field: string,
  maximum = 255,
): string | undefined {
  if (body[field] === undefined || body[field] === null) return undefined;
  return requiredString(body, field, maximum);
}

export function optionalInteger(body: Record<string, unknown>, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new BadRequestException(`${field} must be an integer`);
  return value;
}
