import { isCompatibleType } from './type-compatibility';

describe('isCompatibleType', () => {
  it.each([
    ['uuid', 'uuid'],
    ['character varying(50)', 'character varying(255)'],
    ['character varying(50)', 'text'],
    ['numeric(10,2)', 'numeric(12,2)'],
    ['numeric(10,2)', 'numeric'],
    ['integer', 'bigint'],
    ['access_level', 'access_level'],
  ])('%s fits in %s', (source, target) => expect(isCompatibleType(source, target)).toBe(true));

  it.each([
    ['character varying(255)', 'character varying(50)'],
    ['text', 'character varying(255)'],
    ['numeric(10,2)', 'numeric(10,4)'],
    ['numeric(12,2)', 'numeric(10,2)'],
    ['numeric', 'numeric(10,2)'],
    ['bigint', 'integer'],
    ['json', 'jsonb'],
    ['timestamp with time zone', 'timestamp without time zone'],
    ['character varying(50)', 'integer'],
  ])('%s does not fit in %s', (source, target) => expect(isCompatibleType(source, target)).toBe(false));
});
