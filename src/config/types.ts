/**
 * The validated configuration, with every default filled in, every relative
 * path made absolute (against the config file's directory), durations in
 * milliseconds and sizes in bytes. This is what the other modules read.
 */
import type { CommitRules, PathRules, TextRule } from './policy-rules.js';

export type { CommitRules, PathRules, PusherRule, RuleScope, TextRule } from './policy-rules.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface PushgateConfig {
  /** Absolute path of the file this came from; null when parsed from text. */
  configPath: string | null;
  /** Bare repositories live under this directory. */
  reposRoot: string;
  /** Queue-independent runtime state: audit log, caches. */
  stateDir: string;
  /** The SSH login name clients use (`git@host`). */
  serviceUser: string;
  ssh: SshConfig;
  http: HttpConfig;
  ca: CaConfig;
  identity: IdentityConfig;
  access: AccessRule[];
  policy: PolicyConfig;
  queue: QueueConfig;
  console: ConsoleConfig;
  audit: AuditConfig;
  log: LogConfig;
  /** Git servers whose repositories pushgate mirrors and forwards pushes to. */
  upstreams: UpstreamConfig[];
}

// ── ssh ────────────────────────────────────────────────────────────────────

export const SSH_CIPHERS = [
  'aes128-gcm@openssh.com',
  'aes256-gcm@openssh.com',
  'chacha20-poly1305@openssh.com',
  'aes128-ctr',
  'aes192-ctr',
  'aes256-ctr',
] as const;
export type SshCipher = (typeof SSH_CIPHERS)[number];

export interface SshConfig {
  listen: ListenAddress;
  /** Private host key files. */
  hostKeys: string[];
  /** Ciphers the server accepts; the client's preference order decides which one a session uses. */
  ciphers: SshCipher[];
  limits: SshLimits;
  /** An authorized_keys file of plain keys accepted without a certificate; null = off. */
  breakGlassKeys: string | null;
}

export interface SshLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
  /** Connections not authenticated yet: always accepted below `start`, dropped with `rate`% rising to 100% at `full`. */
  maxStartups: { start: number; rate: number; full: number };
  /** ms from TCP accept to the client's SSH identification line. */
  identificationTimeout: number;
  /** ms between the audit summaries of what unauthenticated peers did. */
  preAuthSummaryInterval: number;
  /** Failed attempts per address and interval written in full before only counts are. */
  preAuthDetailedRecords: number;
  maxSessionsPerIdentity: number;
  /** ms from TCP accept to successful authentication. */
  authTimeout: number;
  maxAuthAttempts: number;
  /** ms without any traffic on a connection. */
  idleTimeout: number;
  maxChannelsPerConnection: number;
  /** ms that running git commands get to finish after SIGTERM. */
  drainTimeout: number;
}

// ── http ───────────────────────────────────────────────────────────────────

export interface HttpConfig {
  enabled: boolean;
  listen: ListenAddress;
  /**
   * Per client address within `window` ms: `requests` with a token that
   * verified, `unauthenticated` without one (no token, a refused token, GET /v1/ca).
   */
  rateLimit: { requests: number; window: number; unauthenticated: number };
  /** Reverse proxies (CIDRs) whose X-Forwarded-For is believed; empty: the socket's peer is the client. */
  trustedProxies: string[];
  /** Serve GET /metrics. */
  metrics: boolean;
}

// ── ca ─────────────────────────────────────────────────────────────────────

export type TrustedCaKey =
  | { kind: 'file'; path: string }
  | { kind: 'inline'; line: string };

export interface CaConfig {
  /** CA private key used to sign certificates; null = this server does not issue. */
  key: string | null;
  /** CA public keys whose user certificates are accepted. */
  trusted: TrustedCaKey[];
  /** OpenSSH KRL file, re-read when it changes; null = none. */
  krl: string | null;
  /** ms of tolerance on certificate validity windows. */
  clockSkew: number;
  /** ms; issued certificates never live longer. */
  maxTtl: number;
  /** ms; lifetime of an issued certificate when the request names none. */
  defaultTtl: number;
  /** Issued certificates carry `source-address` = the requesting address. */
  sourceAddressBinding: boolean;
}

// ── identity ───────────────────────────────────────────────────────────────

/** Asymmetric JOSE algorithms; `none` and HMAC are refused by validation. */
export const JWT_ALGORITHMS = [
  'RS256', 'RS384', 'RS512',
  'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512',
  'EdDSA', 'Ed25519',
] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export type ClaimValue = string | number | boolean;

export interface RequiredClaim {
  /** Claim name; dots reach into objects (`act.sub`). */
  claim: string;
  /** Accepted values; null = the claim only has to be present. */
  values: ClaimValue[] | null;
}

export interface IssuerConfig {
  /** Short name used in key ids and logs; defaults to the issuer's host. */
  name: string;
  issuer: string;
  /** A token must name at least one of these in `aud`. */
  audience: string[];
  algorithms: JwtAlgorithm[];
  /** Overrides the discovered `jwks_uri` (Kubernetes service-account issuers); null = discover. */
  jwksUri: string | null;
  /** ms of tolerance on exp/nbf/iat. */
  clockSkew: number;
  requiredClaims: RequiredClaim[];
  /** Principal template, e.g. `{{sub}}` or `ci:{{repository}}`; the result is sanitised. */
  principal: string;
  /** Claim holding groups/roles (a list or a space-separated string); null = none. */
  rolesClaim: string | null;
  /** Claim value → pushgate roles; values not listed grant nothing. */
  roleMap: Record<string, string[]>;
  /** Roles every token of this issuer gets. */
  defaultRoles: string[];
  /** Claim naming the human who sponsored an agent (token exchange `act`); null = none. */
  sponsorClaim: string | null;
}

export interface RoleRule {
  /** Principal globs (`alice`, `ci:*`, `local:*`). */
  principals: string[];
  roles: string[];
}

export interface IdentityConfig {
  issuers: IssuerConfig[];
  /** Roles granted by principal, on top of those a certificate carries. */
  roles: RoleRule[];
  /** Certificate extension carrying comma-separated roles. */
  roleExtension: string;
  /** Certificate extension carrying the sponsoring human's principal. */
  sponsorExtension: string;
}

// ── access ─────────────────────────────────────────────────────────────────

export type Permission = 'read' | 'write';

export interface AccessRule {
  /** Repository globs relative to reposRoot, without a leading `/` or a `.git` suffix. */
  repos: string[];
  /** The rule applies to these principals… */
  principals: string[];
  /** …and to anyone holding one of these roles. */
  roles: string[];
  permissions: Permission[];
}

// ── policy ─────────────────────────────────────────────────────────────────

export type PolicyMode = 'enforce' | 'audit';
export type RefAction = 'create' | 'update' | 'force-push' | 'delete';
/** What a finding does to the push when its rule is enforced. */
export type FindingAction = 'deny' | 'park';

export interface ProtectRule {
  /** Full ref globs (`refs/heads/release/**`). */
  refs: string[];
  /** Applies only to pushers with one of these roles; empty = everyone. */
  roles: string[];
  /** `update` is any move of an existing ref; `force-push` only a non-fast-forward one. */
  deny: RefAction[];
  park: RefAction[];
}

export interface RuleOverride {
  /** Rule id or glob (`secret.*`, `path.ci-workflow`). */
  rule: string;
  /** Replaces the rule's action; `off` disables the rule. */
  action?: FindingAction | 'off';
  /** `audit` reports what the rule would do without deciding. */
  mode?: PolicyMode;
}

export interface Allowlist {
  /** Path globs whose content is not scanned for secrets. */
  paths: string[];
  /** Exact secret values that are known not to be secrets (test fixtures). */
  values: string[];
  /** Regular expressions (source text) matched against a finding's value. */
  regexes: string[];
  /** Finding fingerprints as printed in a refusal. */
  fingerprints: string[];
  /** Read from a trusted branch as it was before the push; null = never. */
  repoFile: string | null;
  /** Branch patterns (refs/heads/…) whose allowlist file is trusted: the target branch when it is one, else the default branch when it is one. */
  trustedRefs: string[];
}

export interface SecretsConfig {
  enabled: boolean;
  action: FindingAction;
}

export interface SensitivePathGroup {
  /** The finding's rule id is `path.<name>`. */
  name: string;
  patterns: string[];
  action: FindingAction;
}

export interface PushLimits {
  /** Bytes; null = no limit. */
  blobSize: number | null;
  changedFiles: number | null;
  deletedFiles: number | null;
  action: FindingAction;
}

export interface ScanConfig {
  /** ms the hook may spend checking one push. */
  timeBudget: number;
  /** Bytes of content the hook reads for one push. */
  maxBytes: number;
  /** What happens to a push that could not be checked completely. */
  onFailure: FindingAction;
}

export interface PolicyConfig {
  mode: PolicyMode;
  protect: ProtectRule[];
  /** In file order; later entries win. */
  rules: RuleOverride[];
  secrets: SecretsConfig;
  allowlist: Allowlist;
  paths: SensitivePathGroup[];
  limits: PushLimits;
  /** Roles whose inline `pushgate:allow` markers allow; for others a marker turns deny into park. */
  trustedRoles: string[];
  /** `git push -o <name>="why"` asks for review instead of a deny. */
  reviewPushOption: string;
  /** `git push -o <name>="why"` records a reason. */
  reasonPushOption: string;
  scan: ScanConfig;
  /** Catalogue rules (config/policy-rules.ts): commit metadata, ref names for creation, paths. */
  commit: CommitRules;
  refNames: TextRule[];
  path: PathRules;
  deps: DepsConfig;
  commands: PolicyCommand[];
}

/** Which updates and pushers a rule applies to, and whether it decides: a catalogue rule's scope without its one action (these rules have one per finding). */
export interface CheckScope {
  /** Full ref globs; the rule looks at updates of these refs only. */
  refs: string[];
  /** Applies only to pushers with one of these roles; empty = everyone. */
  roles: string[];
  mode: PolicyMode;
}

/** Dependency changes (deps.*): manifests and lockfiles compared at the old and new tip of each update. */
export interface DepsConfig extends CheckScope {
  enabled: boolean;
  /** deps.changed: packages added or changed. */
  changes: FindingAction;
  /** deps.source and deps.registry: a package or registry outside allowedRegistries. */
  sources: FindingAction;
  /** deps.unreadable: a manifest too large or that does not parse. */
  unreadable: FindingAction;
  /** URL prefixes packages may resolve from. */
  allowedRegistries: string[];
  /** Bytes; a larger manifest is not parsed. */
  maxFileSize: number;
}

/** An administrator's program that decides on a push (command.<name>.*). */
export interface PolicyCommand extends CheckScope {
  name: string;
  /** Program and arguments, run without a shell; the push arrives as JSON on stdin. */
  run: string[];
  /** ms. */
  timeout: number;
  /** What a timeout, crash or unreadable answer does: never allow. */
  onFailure: FindingAction;
  /** Bytes of stdout read at most. */
  maxOutput: number;
}

// ── queue ──────────────────────────────────────────────────────────────────

export const QUEUE_EVENTS = ['park', 'approve', 'reject', 'expire', 'stale'] as const;
export type QueueEvent = (typeof QUEUE_EVENTS)[number];

export interface ApprovalRule {
  repos: string[];
  refs: string[];
  approvals: number;
  /** Overrides queue.reviewerRoles for matching pushes; null = inherit. */
  reviewerRoles: string[] | null;
}

export interface WebhookConfig {
  url: string;
  /** json: the event as is; chat: a Slack- and Teams-compatible message. */
  format?: 'json' | 'chat';
  /** ms per attempt. */
  timeout: number;
  retries: number;
  /** File holding a key to sign the body (HMAC-SHA256 header); null = unsigned. */
  secretFile: string | null;
}

export interface NotifyCommandConfig {
  /** Program and arguments, run without a shell; the event JSON arrives on stdin. */
  run: string[];
  timeout: number;
}

export interface QueueConfig {
  reviewerRoles: string[];
  /** Approvals needed when no rule matches. */
  approvals: number;
  /** ms a parked push waits before it expires. */
  expiry: number;
  /** First matching rule wins. */
  rules: ApprovalRule[];
  /** `queue wait` over SSH: served inside the gateway, at most this many at once per identity and in all. */
  waits: { perIdentity: number; total: number };
  notify: {
    events: QueueEvent[];
    webhook: WebhookConfig | null;
    /** More webhooks, each with its own format. */
    webhooks?: WebhookConfig[];
    command: NotifyCommandConfig | null;
    /** The console's base URL (`…/console/`) when it is enabled: messages link to the entry there. */
    consoleUrl?: string | null;
  };
}

// ── console ────────────────────────────────────────────────────────────────

export interface ConsoleConfig {
  enabled: boolean;
  issuer: string | null;
  clientId: string | null;
  clientSecretFile: string | null;
  /** `https://host/console/callback`, as registered with the issuer. */
  redirectUrl: string | null;
  scopes: string[];
  /** RFC 8707 resource indicator asked for, so the access token is for pushgate's audience. */
  resource: string | null;
  /** ms a session lasts after login. */
  sessionLifetime: number;
  /** ms a session lasts without a request. */
  idleTimeout: number;
  attestations: string[];
  cookieName: string;
  secureCookie: 'auto' | 'always' | 'never';
}

// ── audit / log ────────────────────────────────────────────────────────────

export type AuditTransport =
  | { type: 'stderr' }
  | { type: 'http'; url: string; timeout: number };

export interface AuditConfig {
  file: string;
  /** Key file that makes the hash chain an HMAC chain; null = plain SHA-256. */
  hmacKeyFile: string | null;
  rotate: {
    /** Bytes; null = no size rotation. */
    size: number | null;
    daily: boolean;
  };
  transports: AuditTransport[];
  /** ms between the operator log lines of `serve` that publish the log's head when it moved; null: at start and stop only. */
  headInterval: number | null;
  /** ms a background process (post-receive recorder) may run before it gives up and ends. */
  backgroundTimeout: number;
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface LogConfig {
  level: LogLevel;
  /** Operator log file; null = stderr. */
  file: string | null;
}

// ── upstreams ──────────────────────────────────────────────────────────────

export interface UpstreamConfig {
  name: string;
  /** minimatch over repository names (without `.git`). */
  repositories: string;
  /** With `{repo}`: the repository name without `.git`. */
  url: string;
  /** Absolute paths (resolved against the config file's directory). */
  sshKeyFile?: string;
  knownHostsFile?: string;
  username?: string;
  tokenFile?: string;
  /** A git credential helper, as git's `credential.helper` takes it. */
  credentialHelper?: string;
  caFile?: string;
  /** ms a mirror may be old before a session refreshes it. */
  fetchInterval: number;
  serveStale: boolean;
  /** ms any one git command talking to the upstream may take. */
  timeout: number;
}
