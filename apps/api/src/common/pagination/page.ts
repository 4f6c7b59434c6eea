/** Offset pagination with a bounded page size, so that no request can ask for a whole table. */
export type Page = { limit: number; offset: number };

export type PageResult<T> = {
  items: T[];
  limit: number;
  offset: number;
  /** Offset of the next page, or null on the last one (fetched as limit + 1 rows, no count(*)). */
  nextOffset: number | null;
};

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 500;
export const MAX_PAGE_OFFSET = 10_000_000;

export type PageProblem = { parameter: 'limit' | 'offset'; reason: string };

/** Reads `limit`/`offset` from a query string; returns the problem instead of throwing, for the caller to map. */
export function parsePage(query: { limit?: unknown; offset?: unknown }): Page | PageProblem {
  const read = (
    parameter: 'limit' | 'offset',
    fallback: number,
    minimum: number,
    maximum: number,
  ): number | PageProblem => {
    const raw = query[parameter];
    if (raw === undefined || raw === '') return fallback;
    if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw) || Number(raw) < minimum || Number(raw) > maximum)
      return { parameter, reason: `must be an integer between ${minimum} and ${maximum}` };
    return Number(raw);
  };
  const limit = read('limit', DEFAULT_PAGE_LIMIT, 1, MAX_PAGE_LIMIT);
  if (typeof limit !== 'number') return limit;
  const offset = read('offset', 0, 0, MAX_PAGE_OFFSET);
  if (typeof offset !== 'number') return offset;
  return { limit, offset };
}

/** Builds the result from rows fetched with `take: limit + 1`. */
export function toPageResult<T>(rows: T[], page: Page): PageResult<T> {
  const more = rows.length > page.limit;
  return {
    items: more ? rows.slice(0, page.limit) : rows,
    limit: page.limit,
    offset: page.offset,
    nextOffset: more ? page.offset + page.limit : null,
  };
}
