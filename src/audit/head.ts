/**
 * The head of the audit log (its last record's seq and hash), published so
 * that records cut from the end can be detected without anyone remembering
 * it: `serve` writes it to the operator log (at start, when it moved, at
 * stop), `/metrics` exposes it, and `audit verify --anchor` / `--anchor-file`
 * checks a head kept elsewhere is still in the chain.
 *
 * The head read here is the last line as it is, not a verified one: a forged
 * or cut log shows up when it is verified against a head published earlier.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { lastLines } from './follow.js';
import { parseRecordLine } from './record.js';
import { formatAnchor } from './verify.js';

export interface AuditHead {
  seq: number;
  hash: string;
  /** The record's own time. */
  time: string;
}

/** The last record of the log (the newest rotated file when the current one is empty); undefined when there is none. */
export async function readAuditHead(file: string): Promise<AuditHead | undefined> {
  const { lines } = await lastLines(file, 1);
  const line = lines.at(-1);
  if (line === undefined) return undefined;
  const parsed = parseRecordLine(line);
  if ('error' in parsed) return undefined;
  return { seq: parsed.record.seq, hash: parsed.record.hash, time: parsed.record.time };
}

/** The part of the operator log publishing needs (the gateway's OperatorLog has it). */
export interface HeadLog {
  info(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export interface HeadPublisherOptions {
  file: string;
  log: HeadLog;
  /** ms between checks; null: at start and stop only. */
  intervalMs: number | null;
}

export interface HeadPublisher {
  /** Publishes the head one last time and stops. */
  stop(): Promise<void>;
}

function publish(log: HeadLog, file: string, head: AuditHead | undefined, why: string): void {
  if (head === undefined) {
    log.info(`audit log head (${why}): no records yet`, { file });
    return;
  }
  log.info(`audit log head (${why}): seq ${head.seq} hash ${head.hash}; check it later with: pushgate audit verify --anchor ${formatAnchor(head)}`, {
    file, seq: head.seq, hash: head.hash, recordTime: head.time,
  });
}

/** Writes the head to the operator log now, then every `intervalMs` when it moved, and once more at stop. */
export function publishAuditHead(options: HeadPublisherOptions): HeadPublisher {
  const { file, log, intervalMs } = options;
  const stopping = new AbortController();
  let last: string | undefined;
  const check = async (why: string, always: boolean): Promise<void> => {
    try {
      const head = await readAuditHead(file);
      const key = head === undefined ? '' : formatAnchor(head);
      if (always || key !== last) publish(log, file, head, why);
      last = key;
    } catch (error) {
      log.error('audit log head: cannot read the audit log', { file, error: (error as Error).message });
    }
  };
  const running = (async () => {
    await check('start', true);
    if (intervalMs === null) return;
    while (!stopping.signal.aborted) {
      try {
        await sleep(intervalMs, undefined, { signal: stopping.signal, ref: false });
      } catch {
        return;
      }
      await check('moved', false);
    }
  })();
  return {
    async stop() {
      stopping.abort();
      await running;
      await check('stop', true);
    },
  };
}
