import { createReadStream } from 'node:fs';

export interface Line {
  /** 1-based. */
  number: number;
  text: string;
  /** False only for a last line with no newline after it. */
  terminated: boolean;
}

/** The lines of a file, split on bytes so a multi-byte character is never cut. */
export async function* readLines(file: string): AsyncGenerator<Line> {
  let pending: Buffer[] = [];
  let number = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let at = chunk.indexOf(0x0a); at >= 0; at = chunk.indexOf(0x0a, start)) {
      pending.push(chunk.subarray(start, at));
      yield { number: ++number, text: Buffer.concat(pending).toString('utf8'), terminated: true };
      pending = [];
      start = at + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  if (pending.length > 0) yield { number: ++number, text: Buffer.concat(pending).toString('utf8'), terminated: false };
}
