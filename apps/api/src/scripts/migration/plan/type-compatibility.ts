const VARCHAR = /^character varying(?:\((\d+)\))?$/;
const NUMERIC = /^numeric(?:\((\d+),(\d+)\))?$/;
const INTEGER_WIDTH: Record<string, number> = { smallint: 2, integer: 4, bigint: 8 };

/**
 * Whether a source column can land in a target column without changing any value or its text form
 * (the checksum compares text): identical types, or a strictly wider type of the same family.
 * Anything else (varchar to integer, json to jsonb, a narrower length) is a blocker.
 */
export function isCompatibleType(sourceType: string, targetType: string): boolean {
  if (sourceType === targetType) return true;
  const sourceVarchar = VARCHAR.exec(sourceType);
  if (sourceVarchar) {
    if (targetType === 'text' || targetType === 'character varying') return true;
    const targetVarchar = VARCHAR.exec(targetType);
    return Boolean(
      targetVarchar &&
      sourceVarchar[1] &&
      targetVarchar[1] &&
      Number(targetVarchar[1]) >= Number(sourceVarchar[1]),
    );
  }
  const sourceNumeric = NUMERIC.exec(sourceType);
  const targetNumeric = NUMERIC.exec(targetType);
  if (sourceNumeric && targetNumeric) {
    if (!targetNumeric[1]) return true;
    return Boolean(
      sourceNumeric[1] &&
      sourceNumeric[2] === targetNumeric[2] &&
      Number(targetNumeric[1]) >= Number(sourceNumeric[1]),
    );
  }
  if (sourceType in INTEGER_WIDTH && targetType in INTEGER_WIDTH)
    return INTEGER_WIDTH[targetType] >= INTEGER_WIDTH[sourceType];
  return false;
}
