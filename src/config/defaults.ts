/**
 * The documented config file that `pushgate init` writes and that ships as
 * config/pushgate.example.yaml. Every value written here equals the built-in
 * default (a test holds the two together), so the file documents the
 * behaviour of an empty config as well.
 */
import { parseListen } from './fields.js';

export interface DefaultConfigOptions {
  /** Default `127.0.0.1:2222`. */
  sshListen?: string;
  /** Default `127.0.0.1:8080`. */
  httpListen?: string;
  /** Default `repos` (next to the config file). */
  reposRoot?: string;
  /** Default `state`. */
  stateDir?: string;
  /** CA private key; default `ca` (public key `ca.pub`). */
  caKey?: string;
  /** SSH host key; default `host_ed25519`. */
  hostKey?: string;
  /** Audit HMAC key file (pushgate init and install.sh create one); default none (`null`, the built-in default). */
  hmacKeyFile?: string;
}

/** The paths an installed server uses; see config/pushgate.example.yaml. */
export const EXAMPLE_CONFIG_OPTIONS: DefaultConfigOptions = {
  reposRoot: '/srv/git',
  stateDir: '/var/lib/pushgate',
  caKey: 'ca',
  hostKey: 'host_ed25519',
};

function scalar(value: string): string {
  return /^[A-Za-z0-9_./][\w./@-]*(:\d+)?$/.test(value) ? value : JSON.stringify(value);
}

function listenOption(name: string, value: string): string {
  if (parseListen(value) === undefined) throw new RangeError(`invalid ${name} ${JSON.stringify(value)}: expected HOST:PORT such as 127.0.0.1:2222 or [::1]:2222`);
  return scalar(value);
}

export function defaultConfigYaml(options: DefaultConfigOptions = {}): string {
  const sshListen = listenOption('ssh listen address', options.sshListen ?? '127.0.0.1:2222');
  const httpListen = listenOption('http listen address', options.httpListen ?? '127.0.0.1:8080');
  const reposRoot = scalar(options.reposRoot ?? 'repos');
  const stateDir = scalar(options.stateDir ?? 'state');
  const caKey = scalar(options.caKey ?? 'ca');
  const caPub = scalar(`${options.caKey ?? 'ca'}.pub`);
  const hostKey = scalar(options.hostKey ?? 'host_ed25519');
  const hmacKeyFile = options.hmacKeyFile === undefined ? 'null' : scalar(options.hmacKeyFile);

  return `# pushgate.yaml — configuration of the pushgate SSH gateway, certificate
# service, pre-receive policy, pending queue and audit log.
#
# Check it with:   pushgate config check --config <this file>
#
# Relative paths are resolved against the directory of this file.
# Durations: 500ms, 30s, 15m, 1h30m, 7d, 2w.   Sizes: 500KB, 10MiB, 1GiB, or bytes.
# Unknown keys are errors, so a misspelt setting is reported, not ignored.
# Every value below is the built-in default unless its comment says otherwise.

# Bare repositories live under this directory (\`team/app\` is <reposRoot>/team/app.git).
# When omitted: /srv/git.
reposRoot: ${reposRoot}
# Runtime state: audit log, caches. When omitted: /var/lib/pushgate.
stateDir: ${stateDir}
# The login name clients use: git@host. Identities come from certificates, not from this name.
serviceUser: git

# ── SSH gateway ──────────────────────────────────────────────────────────────
ssh:
  listen: ${sshListen}
  # Private host keys (OpenSSH format); clients pin them in known_hosts.
  hostKeys:
    - ${hostKey}
  # Ciphers the server accepts. SSH uses the client's first choice among them, and OpenSSH
  # clients put chacha20-poly1305 first; leave it out to have them use AES-GCM (hardware-accelerated).
  ciphers:
    - aes128-gcm@openssh.com
    - aes256-gcm@openssh.com
    - chacha20-poly1305@openssh.com
    - aes128-ctr
    - aes192-ctr
    - aes256-ctr
  limits:
    maxConnections: 1024            # open connections, in total
    maxConnectionsPerAddress: 256   # from one client address (CI runners often share one)
    # Connections that have not authenticated yet (sshd's MaxStartups): always
    # accepted below 256, then dropped at random, 30% rising to 100% at 512.
    # When a limit is reached, a connection that stalls before authenticating
    # is closed first to make room for the new one.
    maxStartups: "256:30:512"
    identificationTimeout: 10s      # from connect to the client's SSH version line
    authTimeout: 20s                # from connect to successful authentication
    # Unauthenticated noise goes to the audit log as one summary per address
    # and interval (counts only), after the first failed attempts in full.
    preAuthSummaryInterval: 1m
    preAuthDetailedRecords: 20
    maxSessionsPerIdentity: 256     # concurrent git commands of one principal
    maxAuthAttempts: 6
    idleTimeout: 10m                # a connection with no traffic at all is closed
    maxChannelsPerConnection: 10
    drainTimeout: 60s               # on SIGTERM, running git commands get this long to finish
  # Break-glass access: an authorized_keys file whose plain keys are accepted
  # without a certificate (identity "break-glass:<fingerprint>"; grant roles
  # with identity.roles). Off when null.
  breakGlassKeys: null

# ── HTTP: certificate issuance (POST /v1/certificates), GET /v1/ca, /healthz, /metrics
http:
  enabled: true
  listen: ${httpListen}
  rateLimit:            # per client address
    requests: 60        # with a token that verified
    unauthenticated: 30 # without one: a flood of bad tokens never spends the budget above
    window: 1m
  # Reverse proxies (CIDRs) in front of this service whose X-Forwarded-For is
  # believed: the client is then the right-most hop that is not one of them.
  trustedProxies: []
  metrics: true         # serve GET /metrics (Prometheus text format)

# ── Certificate authority ───────────────────────────────────────────────────
ca:
  # CA private key used to sign user certificates; null if this server does not issue.
  key: ${caKey}
  # CA public keys whose user certificates the gateway accepts: files, or key
  # lines written inline ("ssh-ed25519 AAAA… comment"). When omitted: <key>.pub.
  trusted:
    - ${caPub}
  # OpenSSH key revocation list (ssh-keygen -k), re-read when it changes.
  krl: null
  clockSkew: 30s              # tolerance on certificate validity windows
  maxTtl: 1h                  # no issued certificate lives longer
  defaultTtl: 15m             # lifetime when the request names none
  sourceAddressBinding: false # true: certificates only work from the address that requested them

# ── Who is calling ──────────────────────────────────────────────────────────
identity:
  # OIDC issuers whose tokens buy a certificate. None by default. Example:
  #
  #   - issuer: https://login.example.com       # https (http only for localhost)
  #     name: corp                              # used in key ids; default: the issuer's host
  #     audience: pushgate                      # one or a list; the token must name one
  #     algorithms: [RS256, PS256, ES256, ES384, EdDSA]   # never none, never HS*
  #     jwksUri: null                           # null: from discovery
  #     clockSkew: 30s
  #     requiredClaims: { email_verified: true }  # or a list of claims that must exist
  #     principal: "{{email}}"                  # template over claims; default {{sub}}
  #     rolesClaim: groups                      # a list or space-separated string
  #     roleMap: { platform-team: [reviewer], bots: agent }   # claim value -> roles
  #     defaultRoles: []                        # roles every token of this issuer gets
  #     sponsorClaim: act.sub                   # the human behind an agent (token exchange)
  issuers: []
  # Roles by principal, added to those a certificate carries. The queue
  # commands run on the server's shell have the identity "local:<user>".
  roles:
    - principals: ["local:*"]
      roles: [reviewer]
  # Certificate extensions carrying roles (comma-separated) and the sponsor.
  roleExtension: roles@pushgate
  sponsorExtension: sponsor@pushgate

# ── Who may read and write which repository ─────────────────────────────────
# A rule applies to a caller whose principal matches one of \`principals\` or
# who holds one of \`roles\`; permissions of all matching rules add up.
# Repository patterns are relative to reposRoot, without ".git".
# upload-pack and upload-archive need read, receive-pack needs write.
access:
  - repos: ["**"]
    roles: [agent, reviewer]
    permissions: [read, write]

# ── What a push may do ──────────────────────────────────────────────────────
# A push is one decision: any deny -> denied; else any park -> parked for
# review; else allowed. Updates of refs/pushgate/** are always denied.
policy:
  # audit: nothing is denied or parked, findings are reported and logged as
  # "would deny/park" — a dry run for rolling out a policy.
  mode: enforce
  # Protected refs. \`roles\` limits a rule to pushers holding one of them
  # (empty: everyone). Actions: create, update (any move), force-push
  # (non-fast-forward only), delete.
  protect:
    - refs: [refs/heads/main, refs/heads/master, "refs/heads/release/**", "refs/tags/**"]
      roles: []
      deny: [delete, force-push]
      park: []
  # Per-rule overrides by rule id or glob, later entries win:
  #   action: deny | park | off      mode: enforce | audit
  # or the short forms  "secret.jwt": audit   "path.*": off
  # Example:
  #   "limit.*": { mode: audit }
  rules: {}
  secrets:
    enabled: true
    action: deny          # what a secret does to the push (deny | park)
  # Allowlists come only from here and from a trusted branch as it was
  # before the push (repoFile): the target branch when it is trusted, else
  # the default branch when it is — never from the pushed objects, never
  # from a tag or other non-branch ref. Any change to repoFile parks.
  allowlist:
    paths: []             # path globs not scanned for secrets
    values: []            # exact values that are not secrets (test fixtures)
    regexes: []           # regular expressions over a finding's value
    fingerprints: []      # finding fingerprints, as printed in a refusal
    repoFile: .pushgate/allowlist.yaml
    trustedRefs:          # branches repoFile is read from (refs/heads/ only)
      - refs/heads/main
      - refs/heads/master
      - "refs/heads/release/**"
  # Sensitive paths: a change under one of these is a finding path.<name>.
  paths:
    - name: ci-workflow
      patterns:
        - ".github/workflows/**"
        - ".github/actions/**"
        - .gitlab-ci.yml
        - ".gitlab/ci/**"
        - ".circleci/**"
        - Jenkinsfile
        - ".buildkite/**"
        - azure-pipelines.yml
        - .drone.yml
        - ".woodpecker/**"
        - .woodpecker.yml
      action: park
    - name: codeowners
      patterns: [CODEOWNERS, .github/CODEOWNERS, docs/CODEOWNERS, .gitlab/CODEOWNERS]
      action: park
    - name: infrastructure
      patterns: ["**/*.tf", "**/*.tfvars", "**/*.hcl", "**/terraform/**", "**/k8s/**", "**/helm/**", "**/charts/**"]
      action: park
    - name: git-hooks
      patterns: [".husky/**", ".githooks/**", .pre-commit-config.yaml]
      action: park
    - name: pushgate
      patterns: [".pushgate/**"]
      action: park
  # Over a limit is a finding limit.blob-size / limit.changed-files /
  # limit.deleted-files; null switches a limit off.
  limits:
    blobSize: 5MiB
    changedFiles: 1000
    deletedFiles: 100
    action: park
  # Roles whose inline \`pushgate:allow\` markers allow a finding. For anyone
  # else a marker turns a deny into a park.
  trustedRoles: []
  # git push -o review="why": a pusher who believes a finding is a false
  # positive asks for review; the push parks instead of being denied.
  reviewPushOption: review
  # git push -o reason="why": recorded with the push.
  reasonPushOption: reason
  # A push that cannot be checked within these bounds is not allowed.
  scan:
    timeBudget: 60s
    maxBytes: 1GiB
    onFailure: park       # park | deny

# ── Parked pushes ───────────────────────────────────────────────────────────
queue:
  reviewerRoles: [reviewer]   # who may approve or reject; never the pusher or its sponsor
  approvals: 1
  expiry: 7d
  # Stricter rules for some pushes; the first matching rule wins. Example:
  #   - repos: ["**"]
  #     refs: ["refs/heads/release/**"]
  #     approvals: 2
  #     reviewerRoles: [release-manager]
  rules: []
  notify:
    events: [park, approve, reject, expire, stale]
    # POST of a JSON event; never blocks a push. Example:
    #   webhook:
    #     url: https://chat.example.com/hooks/pushgate
    #     timeout: 5s
    #     retries: 3
    #     secretFile: null    # key for an HMAC-SHA256 signature header
    #     format: json        # or chat: a Slack- and Teams-compatible message
    webhook: null
    # More webhooks, each like webhook (a chat channel and a signed JSON receiver).
    webhooks: []
    # A program run without a shell, the event JSON on stdin. Example:
    #   command:
    #     run: [./notify.sh, --channel, reviews]
    #     timeout: 10s
    command: null

# ── Review console: reviewers decide in a browser, under /console/ ──────────
console:
  enabled: false
  # Log in through the organisation's identity provider (code flow + PKCE). Example:
  #   issuer: https://login.example.com
  #   clientId: pushgate-console
  #   clientSecretFile: console-client.secret
  #   redirectUrl: https://pushgate.example.com/console/callback
  #   attestations: ["I read every changed file"]
  sessionLifetime: 8h
  idleTimeout: 1h

# ── Audit trail: hash-chained JSON lines ────────────────────────────────────
audit:
  # When omitted: <stateDir>/audit/audit.log. Elsewhere, e.g.
  #   file: /var/log/pushgate/audit.log
  # The key file that makes the chain an HMAC chain: someone who can rewrite
  # the log but not read the key cannot forge it, nor recompute it after cutting
  # records out. pushgate init and install.sh create one (mode 0600; create one
  # with \`pushgate audit init-key FILE\`). When omitted: null, a plain SHA-256
  # chain that whoever can write the file can recompute (serve and config
  # check warn about it).
  hmacKeyFile: ${hmacKeyFile}
  rotate:
    size: 100MiB          # null: no size rotation
    daily: false
  # Copies of every record elsewhere; the file stays the source of truth and
  # a destination that is down never blocks a push. Example:
  #   - type: stderr                      # JSON lines, for journald/containers
  #   - type: http
  #     url: https://collector.example.com/pushgate
  #     timeout: 5s
  transports: []
  # serve writes the log's head (the last record's seq and hash) to the operator
  # log at start, at stop, and this often when it moved (null: start and stop
  # only); /metrics has it too. Keep it elsewhere to detect records cut from the
  # end: \`pushgate audit verify --anchor-file\` (docs/operations.md).
  headInterval: 1m
  # The post-receive hook records an applied push in the background; it ends
  # after this long whatever it waits on (the audit lock, a file, a kept hook),
  # saying so in the operator log.
  backgroundTimeout: 2m

# ── Operator log (not the audit trail) ──────────────────────────────────────
log:
  level: info             # error | warn | info | debug
  file: null              # null: stderr
`;
}

/** The text of config/pushgate.example.yaml. */
export function exampleConfigYaml(): string {
  return defaultConfigYaml(EXAMPLE_CONFIG_OPTIONS);
}
