/** A WAL position ("16/B374D848") as a number that compares. */
export function lsnValue(lsn: string | null | undefined): bigint {
  if (!lsn) return 0n;
  const [high, low] = lsn.split('/');
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
}

export const lsnAfter = (left: string | null | undefined, right: string | null | undefined): boolean =>
  lsnValue(left) > lsnValue(right);
