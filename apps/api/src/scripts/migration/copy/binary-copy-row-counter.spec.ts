import { BinaryCopyRowCounter } from './binary-copy-row-counter';

/** Builds a binary COPY stream: header, tuples of fields (null = NULL), trailer. */
function binaryCopy(tuples: (Buffer | null)[][]): Buffer {
  const parts: Buffer[] = [
    Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'),
    Buffer.from([0, 0, 0, 0]),
    Buffer.from([0, 0, 0, 0]),
  ];
  for (const tuple of tuples) {
    const count = Buffer.alloc(2);
    count.writeInt16BE(tuple.length);
    parts.push(count);
    for (const field of tuple) {
      const length = Buffer.alloc(4);
      length.writeInt32BE(field === null ? -1 : field.length);
      parts.push(length);
      if (field) parts.push(field);
    }
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}

async function count(stream: Buffer, chunkSize: number): Promise<{ rows: number; output: Buffer }> {
  const counter = new BinaryCopyRowCounter();
  const chunks: Buffer[] = [];
  counter.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise((resolve) => counter.on('end', resolve));
  for (let offset = 0; offset < stream.length; offset += chunkSize)
    counter.write(stream.subarray(offset, offset + chunkSize));
  counter.end();
  await done;
  return { rows: counter.rows, output: Buffer.concat(chunks) };
}

describe('BinaryCopyRowCounter', () => {
  const tuples = [
    [Buffer.from('abc'), null, Buffer.alloc(0)],
    [Buffer.alloc(70000, 1), Buffer.from([1, 2, 3, 4])],
    [null, null],
    [Buffer.from('PGCOPY\n\xff\r\n\0-looking data', 'latin1')],
  ];
  const stream = binaryCopy(tuples);

  it.each([1, 2, 3, 7, 64, 65536, stream.length])(
    'counts tuples exactly with %i-byte chunks and passes the bytes through',
    async (chunkSize) => {
      const result = await count(stream, chunkSize);
      expect(result.rows).toBe(tuples.length);
      expect(result.output.equals(stream)).toBe(true);
    },
  );

  // Many short tuples: chunks end inside counts, lengths and data, and between whole tuples.
  const many = binaryCopy(
    Array.from({ length: 1000 }, (_, index) => [
      Buffer.alloc(index % 7, index),
      index % 3 === 0 ? null : Buffer.from(String(index)),
      Buffer.alloc(0),
    ]),
  );

  it.each([5, 13, 100, 4096, many.length])(
    'counts 1000 short tuples with %i-byte chunks and passes the bytes through',
    async (chunkSize) => {
      const result = await count(many, chunkSize);
      expect(result.rows).toBe(1000);
      expect(result.output.equals(many)).toBe(true);
    },
  );

  it('counts an empty table', async () => {
    expect((await count(binaryCopy([]), 5)).rows).toBe(0);
  });
});
