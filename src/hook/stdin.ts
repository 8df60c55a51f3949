import { readSync } from 'node:fs';

/** Most hook input is a few lines; a megabyte is far beyond any real push. */
const MAX_STDIN = 16 * 1024 * 1024;

/**
 * The ref updates git gives a hook on standard input. They are read from
 * fd 0 directly: setting up process.stdin as a stream costs a few
 * milliseconds of every push. A descriptor that whoever started the hook
 * left non-blocking is read as a stream.
 */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  const add = (chunk: Buffer): void => {
    size += chunk.length;
    if (size > MAX_STDIN) throw new Error(`more than ${MAX_STDIN} bytes of ref updates on standard input`);
    chunks.push(chunk);
  };
  const buffer = Buffer.allocUnsafe(64 * 1024);
  for (;;) {
    let bytes: number;
    try {
      bytes = readSync(0, buffer, 0, buffer.length, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      for await (const chunk of process.stdin as AsyncIterable<Buffer>) add(chunk);
      break;
    }
    if (bytes === 0) break;
    add(Buffer.from(buffer.subarray(0, bytes)));
  }
  return Buffer.concat(chunks).toString('utf8');
}
