import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditConfig } from '../config/types.js';
import type { AuditEventInput, AuditSink } from './types.js';

export interface OpenAuditOptions {
  /** Key of the HMAC chain; by default read from `config.hmacKeyFile`. */
  hmacKey?: Buffer;
}

/** The audit trail of one file: each `record()` appends one JSON line. */
export class AuditLog implements AuditSink {
  readonly file: string;
  readonly hmacKey: Buffer | null;

  constructor(readonly config: AuditConfig, options: OpenAuditOptions = {}) {
    this.file = config.file;
    this.hmacKey = options.hmacKey ?? (config.hmacKeyFile === null ? null : readFileSync(config.hmacKeyFile));
  }

  async record(event: AuditEventInput): Promise<void> {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o750 });
    appendFileSync(this.file, `${JSON.stringify({ v: 1, time: new Date().toISOString(), ...event })}\n`, { mode: 0o640 });
  }

  async close(): Promise<void> {}
}

export function openAudit(config: AuditConfig, options: OpenAuditOptions = {}): AuditLog {
  return new AuditLog(config, options);
}

/** A sink that drops everything: for tests and commands that record nothing. */
export const nullAudit: AuditSink = { record: async () => {} };
