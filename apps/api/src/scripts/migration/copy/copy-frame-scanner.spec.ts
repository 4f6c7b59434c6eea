import { CopyFrameScanner } from './copy-frame-scanner';

function message(code: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(5);
  header.write(code, 0, 'latin1');
  header.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

const copyData = (body: Buffer) => message('d', body);
const copyOutResponse = message('H', Buffer.from([1, 0, 2, 0, 1, 0, 1]));
const notice = message('N', Buffer.from('SNOTICE\0Mhello\0\0', 'latin1'));
const commandComplete = message('C', Buffer.from('COPY 3\0', 'latin1'));
const readyForQuery = message('Z', Buffer.from('T', 'latin1'));

/** True when `bytes` is a sequence of whole CopyData messages, nothing cut. */
function wholeCopyData(bytes: Buffer): boolean {
  let position = 0;
  while (position < bytes.length) {
    if (bytes[position] !== 0x64 || bytes.length - position < 5) return false;
    position += 1 + bytes.readUInt32BE(position + 1);
  }
  return position === bytes.length;
}

/**
 * Feeds `stream` in `size`-byte chunks until the scan ends; what it forwarded, and what it handed
 * back. Each chunk's frames must be whole messages: the target may never hold half of one.
 */
function scanInChunks(stream: Buffer, size: number) {
  const scanner = new CopyFrameScanner();
  const forwarded: Buffer[] = [];
  for (let offset = 0; offset < stream.length; offset += size) {
    const { frames, end } = scanner.scan(stream.subarray(offset, offset + size));
    if (!wholeCopyData(Buffer.concat(frames))) throw new Error(`a message was cut at offset ${offset}`);
    forwarded.push(...frames);
    if (end) {
      const after = Buffer.concat([end.rest, stream.subarray(offset + size)]);
      return { forwarded: Buffer.concat(forwarded), after, error: end.error, messages: scanner.messages };
    }
  }
  return { forwarded: Buffer.concat(forwarded), after: undefined, error: false, messages: scanner.messages };
}

describe('CopyFrameScanner', () => {
  // Rows of every size that matters: empty, one byte, shorter and longer than a header, and over a chunk.
  const rows = [
    Buffer.alloc(0),
    Buffer.from([0x63]),
    Buffer.from('dEc'),
    Buffer.alloc(70000, 0x64),
    Buffer.alloc(9, 0x45),
  ];
  const data = rows.map(copyData);
  const tail = Buffer.concat([commandComplete, readyForQuery]);
  // A notice between rows is skipped; the CopyData around it are forwarded whole, in order.
  const stream = Buffer.concat([
    copyOutResponse,
    data[0],
    data[1],
    notice,
    data[2],
    data[3],
    data[4],
    message('c'),
    tail,
  ]);

  it.each([1, 2, 3, 4, 5, 6, 7, 64, 65536, stream.length])(
    'forwards exactly the CopyData messages with %i-byte chunks and hands back what follows CopyDone',
    (size) => {
      const result = scanInChunks(stream, size);
      expect(result.forwarded.equals(Buffer.concat(data))).toBe(true);
      expect(result.after?.equals(tail)).toBe(true);
      expect(result.error).toBe(false);
      expect(result.messages).toBe(rows.length);
    },
  );

  it.each([1, 3, 5, 1000])('stops at an ErrorResponse and hands it back whole (%i-byte chunks)', (size) => {
    const error = message('E', Buffer.from('SERROR\0C22012\0Mdivision by zero\0\0', 'latin1'));
    const result = scanInChunks(Buffer.concat([copyOutResponse, data[2], error, readyForQuery]), size);
    expect(result.forwarded.equals(data[2])).toBe(true);
    expect(result.error).toBe(true);
    expect(result.after?.equals(Buffer.concat([error, readyForQuery]))).toBe(true);
  });

  it('forwards runs of many short rows, whatever the chunk boundaries', () => {
    const many = Array.from({ length: 5000 }, (_, index) => copyData(Buffer.alloc(index % 13, index)));
    const whole = Buffer.concat([copyOutResponse, ...many, message('c'), tail]);
    for (const size of [9, 4096, 65536]) {
      const result = scanInChunks(whole, size);
      expect(result.forwarded.equals(Buffer.concat(many))).toBe(true);
      expect(result.messages).toBe(5000);
    }
  });

  it('ends at any message that is not part of a COPY, and hands it back unread', () => {
    const result = scanInChunks(Buffer.concat([data[1], commandComplete, readyForQuery]), 3);
    expect(result.forwarded.equals(data[1])).toBe(true);
    expect(result.after?.equals(Buffer.concat([commandComplete, readyForQuery]))).toBe(true);
    expect(result.error).toBe(false);
  });

  it('refuses a malformed length rather than guessing', () => {
    const bad = Buffer.from([0x64, 0, 0, 0, 2]);
    expect(() => new CopyFrameScanner().scan(bad)).toThrow(/malformed/);
  });
});
