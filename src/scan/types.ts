export type Confidence = 'high' | 'medium';

/**
 * What a rule's validator says about one candidate: `false` drops it, `true`
 * keeps the rule's own confidence, a Confidence overrides it.
 */
export type Verdict = boolean | Confidence;

/** Where a candidate was found, for validators that look around the secret. */
export interface MatchContext {
  readonly line: string;
  /** 0-based [start, end) of the secret in `line`. */
  readonly start: number;
  readonly end: number;
  readonly groups: Readonly<Record<string, string | undefined>>;
}

export interface SecretRule {
  /** Stable id, e.g. `secret.github-token`; allowlists and audit records refer to it. */
  readonly id: string;
  readonly title: string;
  /**
   * Matches the credential. A named group `secret` marks the secret value inside
   * the match; without it the whole match is the secret.
   */
  readonly regex: RegExp;
  /** Lowercase literals, at least one of which appears in every line the regex can match. */
  readonly keywords: readonly string[];
  /**
   * For formats with no literal to look for (checked by decoding instead):
   * tried on lines with a long base64/hex run, which every match has.
   * Needs empty `keywords`.
   */
  readonly onEncodedRun?: boolean;
  /** Case-sensitive literals one of which a line must contain before the regex runs (a cheap guard for onEncodedRun rules). */
  readonly requires?: readonly string[];
  /** Minimum Shannon entropy (bits per character) of the secret value; 3 when not given. */
  readonly entropy?: number;
  /** Structural check of the secret value (checksum, decodable JSON, …). */
  readonly validate?: (secret: string, context: MatchContext) => Verdict;
  /**
   * Loosely shaped values (generic assignments, values found by their context)
   * also go through the look-alike filters: references, paths, hashes, UUIDs, words.
   */
  readonly loose?: boolean;
  readonly confidence?: Confidence;
  readonly fix: string;
}

/** One finding. It never holds the plaintext secret: only its mask and fingerprint. */
export interface SecretFinding {
  ruleId: string;
  title: string;
  path: string;
  /** 1-based line number; 0 for findings about the file name. */
  line: number;
  /** 1-based column of the secret in the line (0 for file-name findings). */
  column: number;
  /** 0-based [start, end) offsets of the secret (or of its encoded form) in the line. */
  start: number;
  end: number;
  masked: string;
  /** First 16 hex digits of sha256(ruleId NUL secret): allowlistable without the plaintext. */
  fingerprint: string;
  /** Set when the secret was found inside a base64 or hex encoded value. */
  encoded?: 'base64' | 'hex';
  /** The line carries a `pushgate:allow` marker; the caller decides what that means. */
  inlineAllow: boolean;
  /**
   * File-name findings only: `unreadable` when the name is reported but
   * decides only if the content could not be read as text (see FileRule).
   */
  decides?: 'always' | 'unreadable';
  fix: string;
  confidence: Confidence;
}

export interface Allowlist {
  /** Secret values to ignore: exact strings, or patterns tested against the value. */
  values?: readonly (string | RegExp)[];
  /** Paths to skip entirely (minimatch globs; a pattern without `/` matches the base name). */
  paths?: readonly string[];
  /** Finding fingerprints to ignore. */
  fingerprints?: readonly string[];
}

export interface ScanOptions {
  allowlist?: Allowlist;
}
