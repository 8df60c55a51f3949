import type { FindingAction, PolicyMode } from '../config/index.js';

/** One line of pre-receive input: `<old> <new> <ref>`. */
export interface RefUpdate {
  readonly oldOid: string;
  readonly newOid: string;
  readonly ref: string;
}

export type UpdateKind = 'create' | 'delete' | 'fast-forward' | 'non-fast-forward';

export interface ClassifiedUpdate extends RefUpdate {
  readonly kind: UpdateKind;
  readonly isTag: boolean;
}

export type Decision = 'allow' | 'park' | 'deny';

/** Who is pushing, as the gateway (or the local user) tells the hook. */
export interface Pusher {
  readonly principal: string;
  readonly roles: readonly string[];
  readonly keyId?: string;
  readonly certSerial?: string;
  readonly keyFingerprint?: string;
  readonly sessionId?: string;
  readonly clientAddress?: string;
  readonly sponsor?: string;
}

/**
 * One thing a check found. Never carries a secret in plaintext: `excerpt` is
 * masked and `fingerprint` identifies the value without revealing it.
 */
export interface Finding {
  ruleId: string;
  title: string;
  action: FindingAction;
  /** `audit`: reported as "would deny / would park", never decides. */
  mode: PolicyMode;
  ref?: string;
  commit?: string;
  path?: string;
  line?: number;
  excerpt?: string;
  fingerprint?: string;
  fix: string;
  /** Why the action differs from the rule's own (a review request, an inline marker). */
  note?: string;
  /** Internal: the line carried `pushgate:allow`. */
  inlineAllow?: boolean;
}

export interface PushOptions {
  /** Raw `git push -o` values in order. */
  readonly raw: readonly string[];
  /** `key=value` options; a bare `key` maps to the empty string. */
  readonly values: ReadonlyMap<string, string>;
}
