import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';

/** Bytes a request body may have: a public key line and a TTL fit many times over. */
export const MAX_BODY_BYTES = 16 * 1024;

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/json\s*(;|$)/i.test(contentType.trim());
}

/** Reads a JSON body of at most `limit` bytes. */
export async function readJsonBody(request: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  if (!isJson(request.headers['content-type'])) {
    throw new HttpError(415, 'request.content-type', 'send the body as application/json', { connection: 'close' });
  }
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    throw new HttpError(413, 'request.too-large', `the body may have at most ${limit} bytes`, { connection: 'close' });
  }
  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        // Stop reading but keep the socket: the 413 still has to go out (and then the connection closes).
        request.off('data', onData);
        request.pause();
        reject(new HttpError(413, 'request.too-large', `the body may have at most ${limit} bytes`, { connection: 'close' }));
        return;
      }
      chunks.push(chunk);
    };
    let ended = false;
    request.on('data', onData);
    request.once('end', () => {
      ended = true;
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    // A client that goes away mid-body: 'error' (aborted) and 'close', never 'end'.
    const cutOff = (): void => {
      if (!ended) reject(new HttpError(400, 'request.aborted', 'the request body was cut off'));
    };
    request.once('error', cutOff);
    request.once('close', cutOff);
  });
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'request.body', 'the body is not valid JSON');
  }
}
