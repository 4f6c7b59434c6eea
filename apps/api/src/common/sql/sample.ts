/**
 * `count` and `sample` (the `limit` smallest values of `expression`) of the rows `fromWhere`
 * selects (a `FROM … WHERE …` clause). The sample is its own LIMITed subquery: an aggregate such
 * as `(array_agg(x ORDER BY x))[1:5]` would gather and sort every matching row before slicing,
 * gigabytes of memory or temporary files on a table with tens of millions of them, where a top-N
 * sort keeps only `limit` values.
 */
export function countWithSampleSql(fromWhere: string, expression: string, limit = 5): string {
  return `SELECT count(*) AS count, ${sampleSql(fromWhere, expression, limit)} AS sample ${fromWhere}`;
}

/** The `limit` smallest values of `expression` over `fromWhere`, as a text[] expression. */
export function sampleSql(fromWhere: string, expression: string, limit = 5): string {
  return `ARRAY(SELECT ${expression} ${fromWhere} ORDER BY 1 LIMIT ${Math.trunc(limit)})`;
}
