/** Backend message codes a COPY TO STDOUT stream may carry (protocol 3.0). */
const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
const ERROR_RESPONSE = 0x45; // 'E'
/** Messages that may come between CopyData ones and mean nothing to the copy: skipped. */
const SKIPPED = new Set([
  0x48 /* CopyOutResponse */, 0x4e /* Notice */, 0x53 /* ParameterStatus */, 0x41 /* Notification */,
]);
const HEADER_LENGTH = 5;

/** What one socket chunk holds for the relay. */
export type ScannedChunk = {
  /** Whole CopyData messages, headers included, in order. */
  frames: Buffer[];
  /**
   * Set once the stream of CopyData is over: the bytes after it, for the driver to read (the
   * command's completion, or the error that ended it), and whether an ErrorResponse ended it.
   */
  end?: { rest: Buffer; error: boolean };
};

/**
 * Finds the CopyData messages in the bytes of a COPY TO STDOUT, without opening them.
 *
 * A CopyData message has the same code and layout in both directions of the protocol, so a run of
 * them read from the source's socket is, byte for byte, what COPY FROM STDIN expects on the
 * target's: the relay forwards the runs as they are, and JavaScript only hops from one 5-byte
 * header to the next instead of cutting every row out and framing it again (the driver's parser
 * did; with a row counter on top, that was about a fifth of the split's JavaScript time).
 *
 * Only whole messages are handed on: the end of a message cut by the chunk boundary is held (one
 * row at most) until the rest arrives. The target must never hold half a message: if the source
 * failed then, the CopyFail that aborts the load would be read as the rest of that message, and
 * the target session would fall out of step with the protocol (and hang). CopyOutResponse,
 * notices and parameter changes are skipped; CopyDone and anything else end the scan.
 */
export class CopyFrameScanner {
  /** CopyData messages seen. In binary format the first one also carries the header, and the last one only the trailer. */
  messages = 0;
  /** The first bytes of a header cut by the chunk boundary. */
  #partialHeader: Buffer | undefined;
  /** The pieces of a CopyData message still arriving, and the bytes of its body still owed. */
  #held: Buffer[] = [];
  #bodyLeft = 0;
  #forwarding = false;
  #ended = false;

  scan(input: Buffer): ScannedChunk {
    if (this.#ended) throw new Error('the COPY stream already ended');
    const frames: Buffer[] = [];
    const resumed = this.#resume(input, frames);
    if ('end' in resumed) return { frames, end: resumed.end };
    if (resumed.position < 0) return { frames };
    let position = resumed.position;
    let runStart = position;
    const closeRun = () => {
      if (position > runStart) frames.push(input.subarray(runStart, position));
    };
    while (position < input.length) {
      if (input.length - position < HEADER_LENGTH) {
        closeRun();
        this.#partialHeader = Buffer.from(input.subarray(position));
        return { frames };
      }
      const code = input[position];
      if (!continuesCopy(code)) {
        closeRun();
        return { frames, end: this.#end(input.subarray(position), code) };
      }
      const next = position + HEADER_LENGTH + bodyLength(input, position);
      if (code === COPY_DATA) this.messages += 1;
      if (next > input.length) {
        // The message goes on past this chunk: held until it is whole.
        closeRun();
        this.#forwarding = code === COPY_DATA;
        this.#held = this.#forwarding ? [input.subarray(position)] : [];
        this.#bodyLeft = next - input.length;
        return { frames };
      }
      if (code !== COPY_DATA) {
        closeRun();
        runStart = next;
      }
      position = next;
    }
    closeRun();
    return { frames };
  }

  /**
   * Completes what earlier chunks left unfinished (a cut header, a message still arriving) with the
   * start of `input`: where the next message starts in it, -1 when `input` is used up, or the end.
   */
  #resume(input: Buffer, frames: Buffer[]): { position: number } | { end: NonNullable<ScannedChunk['end']> } {
    let position = 0;
    if (this.#partialHeader) {
      const cut = this.#partialHeader;
      // A few bytes joined; the rest of the chunk is not copied.
      const header = Buffer.concat([cut, input.subarray(0, HEADER_LENGTH - cut.length)]);
      position = header.length - cut.length;
      this.#partialHeader = header.length < HEADER_LENGTH ? header : undefined;
      if (this.#partialHeader) return { position: -1 };
      const code = header[0];
      if (!continuesCopy(code))
        return { end: this.#end(Buffer.concat([header, input.subarray(position)]), code) };
      if (code === COPY_DATA) this.messages += 1;
      this.#forwarding = code === COPY_DATA;
      this.#held = this.#forwarding ? [header] : [];
      this.#bodyLeft = bodyLength(header, 0);
    } else if (this.#bodyLeft === 0) return { position };
    const step = Math.min(this.#bodyLeft, input.length - position);
    if (this.#forwarding && step > 0) this.#held.push(input.subarray(position, position + step));
    this.#bodyLeft -= step;
    position += step;
    if (this.#bodyLeft > 0) return { position: -1 };
    frames.push(...this.#held);
    this.#held = [];
    return { position };
  }

  /** CopyDone is consumed here (it has no body); anything else is left whole for the driver to read. */
  #end(rest: Buffer, code: number): NonNullable<ScannedChunk['end']> {
    this.#ended = true;
    return { rest: code === COPY_DONE ? rest.subarray(HEADER_LENGTH) : rest, error: code === ERROR_RESPONSE };
  }
}

/** CopyData goes on, the skipped kinds are passed over; anything else ends the COPY's data. */
const continuesCopy = (code: number): boolean => code === COPY_DATA || SKIPPED.has(code);

function bodyLength(buffer: Buffer, position: number): number {
  const length = buffer.readUInt32BE(position + 1) - 4;
  if (length < 0) throw new Error(`malformed message in the COPY stream (code ${buffer[position]})`);
  return length;
}
