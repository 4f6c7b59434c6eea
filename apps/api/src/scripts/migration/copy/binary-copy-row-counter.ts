import { Transform, TransformCallback } from 'node:stream';

const SIGNATURE_LENGTH = 11;

/**
 * Passes a binary COPY stream through unchanged while counting its tuples, for progress bars.
 * The format: 11-byte signature, int32 flags, int32 extension length and extension, then tuples
 * (int16 field count, each field an int32 length, -1 for NULL, and its bytes) and an int16 -1
 * trailer. Only lengths are read, so the cost stays tiny whatever the data.
 */
export class BinaryCopyRowCounter extends Transform {
  rows = 0;
  #state: 'signature' | 'flags' | 'extensionLength' | 'skip' | 'fieldCount' | 'fieldLength' | 'done' =
    'signature';
  #need = SIGNATURE_LENGTH;
  #header = Buffer.alloc(4);
  #headerFilled = 0;
  #skip = 0;
  #fieldsLeft = 0;
  #afterSkip: 'fieldCount' | 'fieldLength' = 'fieldCount';

  constructor(private readonly onRows?: (rows: number) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let offset = 0;
    while (offset < chunk.length && this.#state !== 'done') {
      if (this.#state === 'fieldCount' && this.#headerFilled === 0) {
        offset = this.#scanWholeTuples(chunk, offset);
        if (offset >= chunk.length) break;
      }
      if (this.#state === 'skip') {
        const step = Math.min(this.#skip, chunk.length - offset);
        offset += step;
        this.#skip -= step;
        if (this.#skip === 0) this.#state = this.#afterSkip;
        continue;
      }
      if (this.#state === 'signature') {
        const step = Math.min(this.#need, chunk.length - offset);
        offset += step;
        this.#need -= step;
        if (this.#need === 0) this.#expect('flags', 4);
        continue;
      }
      const value = this.#read(chunk, offset);
      offset = value.offset;
      if (value.number === undefined) continue;
      switch (this.#state) {
        case 'flags':
          this.#expect('extensionLength', 4);
          break;
        case 'extensionLength':
          this.#skipThen(value.number, 'fieldCount');
          break;
        case 'fieldCount':
          if (value.number === -1) {
            this.#state = 'done';
            break;
          }
          this.rows += 1;
          this.#fieldsLeft = value.number;
          if (this.rows % 10000 === 0) this.onRows?.(this.rows);
          if (this.#fieldsLeft === 0) this.#expect('fieldCount', 2);
          else this.#expect('fieldLength', 4);
          break;
        case 'fieldLength':
          this.#fieldsLeft -= 1;
          this.#skipThen(Math.max(0, value.number), this.#fieldsLeft > 0 ? 'fieldLength' : 'fieldCount');
          break;
      }
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.onRows?.(this.rows);
    callback();
  }

  #expect(state: 'flags' | 'extensionLength' | 'fieldCount' | 'fieldLength', bytes: number): void {
    this.#state = state;
    this.#need = bytes;
    this.#headerFilled = 0;
  }

  #skipThen(bytes: number, next: 'fieldCount' | 'fieldLength'): void {
    const size = next === 'fieldCount' ? 2 : 4;
    if (bytes === 0) {
      this.#expect(next, size);
      return;
    }
    this.#skip = bytes;
    this.#afterSkip = next;
    this.#state = 'skip';
    this.#need = size;
    this.#headerFilled = 0;
  }

  /**
   * The tuples that lie wholly inside the chunk from `start` (a tuple boundary), read in place; the
   * offset of the first one that does not. Most tuples are such: the state machine below, one step
   * and one small object per field, then only handles the tuple cut by a chunk's end. Without this
   * pass, counting cost about 1.4 s of CPU per million 17-column rows, five times the stream itself.
   */
  #scanWholeTuples(chunk: Buffer, start: number): number {
    let offset = start;
    while (offset + 2 <= chunk.length) {
      const fields = chunk.readInt16BE(offset);
      if (fields < 0) return offset;
      let end = offset + 2;
      for (let field = 0; field < fields; field++) {
        if (end + 4 > chunk.length) return offset;
        end += 4 + Math.max(0, chunk.readInt32BE(end));
      }
      if (end > chunk.length) return offset;
      offset = end;
      this.rows += 1;
      if (this.rows % 10000 === 0) this.onRows?.(this.rows);
    }
    return offset;
  }

  /** Reads a big-endian int16/int32 that may straddle chunks. */
  #read(chunk: Buffer, offset: number): { offset: number; number?: number } {
    const need = this.#state === 'fieldCount' ? 2 : 4;
    const step = Math.min(need - this.#headerFilled, chunk.length - offset);
    chunk.copy(this.#header, this.#headerFilled, offset, offset + step);
    this.#headerFilled += step;
    if (this.#headerFilled < need) return { offset: offset + step };
    this.#headerFilled = 0;
    return {
      offset: offset + step,
      number: need === 2 ? this.#header.readInt16BE(0) : this.#header.readInt32BE(0),
    };
  }
}
