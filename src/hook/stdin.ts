/** Most hook input is a few lines; a megabyte is far beyond any real push. */
const MAX_STDIN = 16 * 1024 * 1024;

/** The ref updates git gives a hook on standard input. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_STDIN) throw new Error(`more than ${MAX_STDIN} bytes of ref updates on standard input`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
