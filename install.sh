#!/usr/bin/env bash
# The embedded node programs are single-quoted on purpose: ${...} in them is JavaScript.
# shellcheck disable=SC2016
# Installs pushgate on a Git server: the program with its production
# dependencies, a `pushgate` link, a config file, a state directory with the
# CA and host keys, a systemd unit, and (optionally) pushgate's hooks in
# existing bare repositories. Run `install.sh --help` for the flags.
set -euo pipefail
umask 022

readonly MARKER_FILE=.pushgate-install
readonly UNIT_MARKER="# Written by pushgate's install.sh; it is replaced when install.sh runs again with other settings."
readonly NODE_MIN_MAJOR=20 NODE_MIN_MINOR=19

prefix=/opt/pushgate
bin_dir=/usr/local/bin
config_dir=/etc/pushgate
state_dir=/var/lib/pushgate
service_user=
systemd_dir=
systemd_dir_given=0
enable=0
no_systemd=0
hooks_glob=
dry_run=0
uninstall=0

usage() {
  cat <<'EOF'
Usage: install.sh [options]

Installs pushgate on this Git server. Run it as root from a source checkout
(or an unpacked release) of pushgate. Running it again with the same options
changes nothing and says so.

Options:
  --prefix DIR       where the program goes (default /opt/pushgate): bin/, build/src/,
                     config/, package.json, package-lock.json and the production
                     dependencies in node_modules/ (npm ci --omit=dev --ignore-scripts,
                     taking what npm's cache holds from there)
  --bin-dir DIR      where the `pushgate` link goes (default /usr/local/bin)
  --config-dir DIR   where pushgate.yaml lives (default /etc/pushgate); created from
                     config/pushgate.example.yaml only when absent, never overwritten
  --state-dir DIR    state directory (default /var/lib/pushgate), mode 0700: audit log,
                     and the CA key (ca, ca.pub), SSH host key (host_ed25519) and audit
                     HMAC key (audit.key) that a new config points at; missing keys are
                     created, never replaced
  --user NAME        the service user: created when missing (useradd --system, home =
                     the state dir, shell = git-shell or nologin); owns the state dir
                     and keys, and runs the service
  --systemd-dir DIR  where pushgate.service goes (default /etc/systemd/system); the unit
                     is written when systemd is running or when this flag is given
  --enable           also run `systemctl enable --now pushgate` (never without this flag)
  --no-systemd       never write a systemd unit
  --hooks GLOB       run `pushgate repo install-hooks` on the bare repositories matching
                     GLOB (bash globstar: ** matches any depth); quote it. Matching no
                     repository is an error
  --dry-run          print every action, change nothing
  --uninstall        remove the program dir, the link (only if it points into the
                     prefix) and the unit; keep config, state and repositories
  -h, --help         this text

Exit status: 0 done, 1 refused or a step failed, 2 bad usage or a missing prerequisite.

Examples:
  sudo ./install.sh --user git
  sudo ./install.sh --user git --hooks '/srv/git/**/*.git' --enable
  sudo ./install.sh --prefix /opt/pushgate --config-dir /etc/pushgate --dry-run
  sudo ./install.sh --uninstall
EOF
}

say() { printf '%s\n' "$*"; }
warn() { printf 'install.sh: warning: %s\n' "$*" >&2; }
die() { printf 'install.sh: %s\n' "$1" >&2; exit "${2:-1}"; }
usage_error() { printf 'install.sh: %s\nRun install.sh --help for the options.\n' "$1" >&2; exit 2; }

# ── Arguments ────────────────────────────────────────────────────────────────

absolute() {
  local path=$1
  [[ $path == /* ]] || path="$PWD/$path"
  while [[ $path == */ && $path != / ]]; do path=${path%/}; done
  printf '%s' "$path"
}

while (($# > 0)); do
  option=$1
  value=
  has_value=0
  if [[ $option == --*=* ]]; then
    value=${option#*=}
    option=${option%%=*}
    has_value=1
  fi
  case $option in
    --prefix | --bin-dir | --config-dir | --state-dir | --user | --systemd-dir | --hooks)
      if ((!has_value)); then
        (($# >= 2)) || usage_error "$option needs a value"
        value=$2
        shift
      fi
      [[ -n $value ]] || usage_error "$option needs a non-empty value"
      case $option in
        --prefix) prefix=$(absolute "$value") ;;
        --bin-dir) bin_dir=$(absolute "$value") ;;
        --config-dir) config_dir=$(absolute "$value") ;;
        --state-dir) state_dir=$(absolute "$value") ;;
        --systemd-dir) systemd_dir=$(absolute "$value"); systemd_dir_given=1 ;;
        --hooks) hooks_glob=$value ;;
        --user)
          [[ $value =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] || usage_error "--user $value: not a valid user name (lower-case letters, digits, _ and -)"
          service_user=$value ;;
      esac
      ;;
    --enable | --no-systemd | --dry-run | --uninstall | --help | -h)
      ((!has_value)) || usage_error "$option takes no value"
      case $option in
        --enable) enable=1 ;;
        --no-systemd) no_systemd=1 ;;
        --dry-run) dry_run=1 ;;
        --uninstall) uninstall=1 ;;
        --help | -h) usage; exit 0 ;;
      esac
      ;;
    *) usage_error "unknown option: $1" ;;
  esac
  shift
done

((!(enable && no_systemd))) || usage_error "--enable and --no-systemd contradict each other"
((!(systemd_dir_given && no_systemd))) || usage_error "--systemd-dir and --no-systemd contradict each other"
[[ $prefix != / ]] || usage_error "--prefix / is not a program directory"
[[ -n $systemd_dir ]] || systemd_dir=/etc/systemd/system

readonly unit_file="$systemd_dir/pushgate.service"
readonly config_file="$config_dir/pushgate.yaml"
readonly link="$bin_dir/pushgate"
readonly entry="$prefix/bin/pushgate.js"

systemd_running() { [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; }

# Whether this run deals with a unit at all.
want_unit() { ((!no_systemd)) && { ((systemd_dir_given)) || [[ -d /run/systemd/system ]]; }; }

# ── Actions: printed always, run unless --dry-run ─────────────────────────────

changes=0

# act DESCRIPTION COMMAND...: one change to the system.
act() {
  local what=$1
  shift
  changes=$((changes + 1))
  if ((dry_run)); then
    say "would $what"
  else
    say "$what"
    "$@" || die "could not $what"
  fi
}

unchanged() { say "unchanged: $*"; }

# ── Uninstall ────────────────────────────────────────────────────────────────

# Only a directory install.sh made (it holds the marker file) is ever written to or removed.
is_pushgate_prefix() { [[ -f $prefix/$MARKER_FILE ]]; }

readonly MARKER_HEAD="# pushgate installation made by install.sh; --uninstall removes this directory."

# Bare repositories under reposRoot whose hooks run the program in the prefix.
repos_with_our_hooks() {
  local root=$1 real_entry hook
  real_entry=$(readlink -f -- "$entry" 2>/dev/null || printf '%s' "$entry")
  [[ -d $root ]] || return 0
  shopt -s globstar nullglob
  for hook in "$root"/**/hooks/pre-receive; do
    if grep -q -F -e "$entry" -e "$real_entry" -- "$hook" 2>/dev/null; then say "${hook%/hooks/pre-receive}"; fi
  done
  shopt -u globstar nullglob
}

do_uninstall() {
  local repos_root='' hooked=()
  if [[ -f $config_file ]]; then
    repos_root=$(sed -n 's/^reposRoot:[[:space:]]*//p' "$config_file" | head -n 1)
    repos_root=${repos_root%\"}; repos_root=${repos_root#\"}; repos_root=${repos_root%\'}; repos_root=${repos_root#\'}
    [[ $repos_root == /* ]] || repos_root=''
  fi
  if [[ -n $repos_root ]]; then mapfile -t hooked < <(repos_with_our_hooks "$repos_root"); fi

  if [[ -f $unit_file ]] && ((!no_systemd)); then
    if grep -q -F "$UNIT_MARKER" "$unit_file"; then
      if systemd_running; then act "stop and disable pushgate.service" systemctl disable --now pushgate.service; fi
      act "remove $unit_file" rm -f -- "$unit_file"
      if systemd_running; then act "reload systemd (systemctl daemon-reload)" systemctl daemon-reload; fi
    else
      warn "kept $unit_file: it was not written by install.sh"
    fi
  fi

  if [[ -L $link ]]; then
    local target
    target=$(readlink -f -- "$link" 2>/dev/null || true)
    if [[ $target == "$(readlink -f -- "$prefix" 2>/dev/null || printf '%s' "$prefix")"/* || $(readlink -- "$link") == "$prefix"/* ]]; then
      act "remove the link $link" rm -f -- "$link"
    else
      warn "kept $link: it does not point into $prefix"
    fi
  elif [[ -e $link ]]; then
    warn "kept $link: it is not a link into $prefix"
  fi

  if [[ -d $prefix ]]; then
    if is_pushgate_prefix; then
      act "remove the program directory $prefix" rm -rf -- "$prefix"
    else
      die "refusing to remove $prefix: it does not hold a pushgate installation ($prefix/$MARKER_FILE is missing)"
    fi
  fi

  say "kept: the config $config_dir, the state directory $state_dir (audit log, CA and host keys), and every repository${repos_root:+ under $repos_root}"
  if ((${#hooked[@]} > 0)) || [[ -n $repos_root ]]; then
    say "Repositories whose hooks ran the removed program now refuse every push: their pre-receive hook cannot run, so nothing gets in unchecked."
    ((${#hooked[@]} == 0)) || say "  ${#hooked[@]} such repositories, e.g. ${hooked[0]}"
    say "To fix: install pushgate again and run  pushgate repo install-hooks --config $config_file REPO...,"
    say "or remove hooks/pre-receive and hooks/post-receive from a repository to accept its pushes unchecked."
  fi
  if ((dry_run)); then
    say "pushgate uninstall (dry run): $changes actions would run; nothing was changed"
  elif ((changes == 0)); then
    say "pushgate uninstall: unchanged (nothing of pushgate's was installed here)"
  else
    say "pushgate uninstall: done"
  fi
}

if ((uninstall)); then
  do_uninstall
  exit 0
fi

# ── Prerequisites ────────────────────────────────────────────────────────────

command -v node >/dev/null 2>&1 || die "Node.js is not installed (no \`node\` in PATH): install Node.js ${NODE_MIN_MAJOR}.${NODE_MIN_MINOR} or newer, e.g. from https://nodejs.org/ or the NodeSource Debian packages, then run install.sh again" 2
node_version=$(node --version 2>/dev/null || true)
if [[ ! $node_version =~ ^v([0-9]+)\.([0-9]+)\. ]]; then
  die "could not read the Node.js version from \`$(command -v node) --version\` (got ${node_version:-nothing}): install Node.js ${NODE_MIN_MAJOR}.${NODE_MIN_MINOR} or newer" 2
fi
node_major=${BASH_REMATCH[1]}
node_minor=${BASH_REMATCH[2]}
if ((node_major < NODE_MIN_MAJOR || (node_major == NODE_MIN_MAJOR && node_minor < NODE_MIN_MINOR))); then
  die "Node.js $node_version at $(command -v node) is too old: pushgate needs Node.js ${NODE_MIN_MAJOR}.${NODE_MIN_MINOR} or newer; install it (e.g. from https://nodejs.org/ or the NodeSource Debian packages) and run install.sh again" 2
fi
command -v npm >/dev/null 2>&1 || die "npm is not installed (no \`npm\` in PATH): it comes with Node.js from nodejs.org or NodeSource; on Debian: apt-get install npm" 2
command -v git >/dev/null 2>&1 || die "git is not installed (no \`git\` in PATH): on Debian: apt-get install git" 2
node_dir=$(dirname -- "$(command -v node)")

source_dir=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")" && pwd)
if [[ ! -f $source_dir/package.json ]] || ! grep -q '"name": *"pushgate"' "$source_dir/package.json"; then
  die "$source_dir is not a pushgate source checkout or release (no package.json of pushgate next to install.sh)" 2
fi
[[ -f $source_dir/package-lock.json ]] || die "$source_dir/package-lock.json is missing: install.sh installs the exact versions it lists" 2

# ── Program ──────────────────────────────────────────────────────────────────

ensure_build() {
  [[ -f $source_dir/build/src/cli/main.js ]] && return 0
  say "$source_dir/build/src is missing: building it needs the development dependencies (TypeScript)"
  [[ -w $source_dir ]] || die "cannot build in $source_dir (not writable): run \`npm ci && npm run build\` there first"
  act "build pushgate in $source_dir (npm ci && npm run build)" build_source
  ((dry_run)) || [[ -f $source_dir/build/src/cli/main.js ]] || die "the build did not produce $source_dir/build/src/cli/main.js"
}

build_source() {
  (cd -- "$source_dir" && npm ci --no-audit --no-fund --prefer-offline && npm run build) ||
    die "building pushgate failed (npm ci && npm run build in $source_dir needs the npm registry); fix the error above or build it yourself and run install.sh again"
}

# What goes into the prefix: package.json `files`, package.json, package-lock.json.
payload_entries() {
  node -e '
    const pkg = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    for (const entry of pkg.files ?? []) {
      if (entry.startsWith("/") || entry.split("/").includes("..") || /[*?[\]{}!]/.test(entry)) {
        console.error(`package.json files: ${JSON.stringify(entry)} is not a plain relative path`);
        process.exit(1);
      }
      console.log(entry);
    }' "$source_dir/package.json"
  printf '%s\n' package.json package-lock.json
}

# "<sha256> <x|-> <path>" for every file of the entries below ROOT, sorted.
manifest() {
  node -e '
    const { createHash } = require("crypto");
    const fs = require("fs");
    const path = require("path");
    const [root, ...entries] = process.argv.slice(1);
    const lines = [];
    const visit = (rel) => {
      const full = path.join(root, rel);
      let stat;
      try { stat = fs.lstatSync(full); } catch { return; }
      if (stat.isDirectory()) for (const name of fs.readdirSync(full)) visit(path.join(rel, name));
      else if (stat.isFile()) {
        const sha = createHash("sha256").update(fs.readFileSync(full)).digest("hex");
        lines.push(`${sha} ${stat.mode & 0o100 ? "x" : "-"} ${rel}`);
      }
    };
    for (const entry of entries) visit(entry);
    lines.sort((a, b) => (a.slice(67) < b.slice(67) ? -1 : a.slice(67) > b.slice(67) ? 1 : 0));
    if (lines.length) console.log(lines.join("\n"));
  ' "$@"
}

# Times are kept: a hook runs from its bundle only while the bundle is at
# least as new as the modules it was built from (src/hook/entry.cts).
copy_file() { # SOURCE DEST MODE
  install -D -p -m "$3" -- "$1" "$2"
}

check_prefix() {
  if [[ -d $prefix ]] && ! is_pushgate_prefix && [[ -n $(ls -A -- "$prefix") ]]; then
    die "refusing to install into $prefix: it is not empty and holds no pushgate installation ($MARKER_FILE); choose another --prefix"
  fi
}

# The marker goes in first, so that an install interrupted later can be resumed or removed.
claim_prefix() {
  ensure_dir "$prefix" 0755
  is_pushgate_prefix && return 0
  act "mark $prefix as pushgate's ($prefix/$MARKER_FILE)" write_file "$prefix/$MARKER_FILE" "$MARKER_HEAD
dependencies=none yet" 0644
}

sync_payload() {
  local entries=() wanted have sha mode path
  mapfile -t entries < <(payload_entries)
  wanted=$(manifest "$source_dir" "${entries[@]}")
  [[ -n $wanted ]] || die "nothing to install: $source_dir lists no files"
  have=''
  [[ -d $prefix ]] && have=$(manifest "$prefix" "${entries[@]}")
  if [[ $wanted == "$have" ]]; then
    unchanged "the program in $prefix ($(wc -l <<<"$wanted") files)"
    return 0
  fi
  local copied=0 removed=0
  declare -A wanted_paths=()
  while read -r sha mode path; do
    wanted_paths[$path]=1
    if ! grep -q -x -F -- "$sha $mode $path" <<<"$have"; then
      copied=$((copied + 1))
      ((dry_run)) || copy_file "$source_dir/$path" "$prefix/$path" "$([[ $mode == x ]] && echo 0755 || echo 0644)"
    else
      ((dry_run)) || touch -c -r "$source_dir/$path" -- "$prefix/$path"
    fi
  done <<<"$wanted"
  if [[ -n $have ]]; then
    while read -r sha mode path; do
      [[ -n ${wanted_paths[$path]:-} ]] && continue
      removed=$((removed + 1))
      ((dry_run)) || rm -f -- "$prefix/$path"
    done <<<"$have"
  fi
  changes=$((changes + 1))
  say "$( ((dry_run)) && echo 'would copy' || echo copied) $copied new or changed files into $prefix$( ((removed == 0)) || echo ", and $( ((dry_run)) && echo remove || echo removed) $removed stale files")"
  if ((removed > 0 && !dry_run)); then find "$prefix/build" -mindepth 1 -type d -empty -delete 2>/dev/null || true; fi
}

# The dependencies depend only on package.json and the lockfile: reinstall when they change.
deps_stamp() {
  cat -- "$source_dir/package.json" "$source_dir/package-lock.json" | sha256sum | cut -d' ' -f1
}

install_dependencies() {
  local stamp marker_text
  stamp=$(deps_stamp)
  marker_text="$MARKER_HEAD
dependencies=$stamp (npm ci --omit=dev --ignore-scripts)"
  if [[ -f $prefix/$MARKER_FILE && -f $prefix/node_modules/.package-lock.json && $(cat -- "$prefix/$MARKER_FILE") == "$marker_text" ]]; then
    unchanged "the production dependencies in $prefix/node_modules"
    return 0
  fi
  # --ignore-scripts: no package code runs as root at install time; ssh2 works
  # without its optional native addon, and the root `prepare` script (a build)
  # has no business in the prefix.
  act "install the production dependencies in $prefix (npm ci --omit=dev --ignore-scripts)" run_npm_ci
  act "record the dependencies in $prefix/$MARKER_FILE" write_file "$prefix/$MARKER_FILE" "$marker_text" 0644
}

# --prefer-offline: packages already in npm's cache are taken from there without
# asking the registry again (package-lock.json pins each one by its hash, so a
# cached copy is the same package); only missing ones are downloaded.
run_npm_ci() {
  (cd -- "$prefix" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline) ||
    die "npm ci in $prefix failed (it needs the npm registry, or a cache holding every package of package-lock.json)"
}

write_file() { # PATH TEXT MODE
  local temp
  temp=$(mktemp -- "$1.XXXXXX")
  printf '%s\n' "$2" >"$temp"
  chmod "$3" -- "$temp"
  mv -f -- "$temp" "$1"
}

ensure_dir() { # DIR MODE
  if [[ -d $1 ]]; then return 0; fi
  act "create $1" mkdir -p -m "$2" -- "$1"
}

ensure_link() {
  ensure_dir "$bin_dir" 0755
  if [[ -L $link ]]; then
    local current
    current=$(readlink -- "$link")
    if [[ $current == "$entry" ]]; then
      unchanged "the link $link -> $entry"
      return 0
    fi
    [[ $current == "$prefix"/* ]] || die "$link exists and points at $current, not into $prefix: remove it or choose another --bin-dir"
    act "point $link at $entry" ln -sfn -- "$entry" "$link"
  elif [[ -e $link ]]; then
    die "$link exists and is not a link into $prefix: remove it or choose another --bin-dir"
  else
    act "link $link -> $entry" ln -s -- "$entry" "$link"
  fi
}

# ── Service user and state ──────────────────────────────────────────────────

user_exists() { [[ -n $service_user ]] && id -u -- "$service_user" >/dev/null 2>&1; }

ensure_user() {
  [[ -n $service_user ]] || return 0
  if user_exists; then
    unchanged "the user $service_user (exists; not modified)"
    return 0
  fi
  command -v useradd >/dev/null 2>&1 || die "cannot create the user $service_user: useradd is missing (on Debian: apt-get install passwd)" 2
  local shell
  shell=$(command -v git-shell 2>/dev/null || true)
  if [[ -z $shell ]]; then
    for shell in /usr/sbin/nologin /sbin/nologin /usr/bin/false; do [[ -x $shell ]] && break; done
  fi
  act "create the system user $service_user (home $state_dir, shell $shell)" \
    useradd --system --user-group --home-dir "$state_dir" --no-create-home --shell "$shell" --comment "pushgate service" -- "$service_user"
}

# Owner and mode of a path the service must own.
ensure_owner_mode() { # PATH MODE
  local path=$1 mode=$2 want_owner current_mode current_owner
  [[ -e $path ]] || return 0
  current_mode=$(stat -c %a -- "$path")
  if [[ $current_mode != "${mode#0}" ]]; then
    act "set the mode of $path to $mode (was $current_mode)" chmod "$mode" -- "$path"
  fi
  [[ -n $service_user ]] || return 0
  if ! user_exists; then
    ((dry_run)) && act "give $path to $service_user" true
    return 0
  fi
  want_owner=$(id -u -- "$service_user"):$(id -g -- "$service_user")
  current_owner=$(stat -c %u:%g -- "$path")
  if [[ $current_owner != "$want_owner" ]]; then
    act "give $path to $service_user" chown -- "$want_owner" "$path"
  fi
}

# ── Config and keys ─────────────────────────────────────────────────────────

# The installed program, run by the node that passed the version check.
pushgate_cli() { node "$entry" "$@"; }

# The program this run can use: the installed one, or (dry run) none yet.
installed() { [[ -f $prefix/$MARKER_FILE && -d $prefix/node_modules ]]; }

# The example with the state, CA, host key and audit HMAC key paths under the
# state dir; the rest of the file (comments, layout) stays as it is.
write_new_config() {
  node --input-type=module -e '
    import { readFileSync, writeFileSync } from "node:fs";
    import { createRequire } from "node:module";
    const [prefix, example, target, state] = process.argv.slice(1);
    const { parse } = createRequire(`${prefix}/package.json`)("yaml");
    const scalar = (value) => (/^[A-Za-z0-9_./-]+$/.test(value) ? value : JSON.stringify(value));
    const edits = [
      [/^stateDir: .*$/m, `stateDir: ${scalar(state)}`],
      [/^(  key: )ca$/m, `$1${scalar(`${state}/ca`)}`],
      [/^(    - )ca\.pub$/m, `$1${scalar(`${state}/ca.pub`)}`],
      [/^(    - )host_ed25519$/m, `$1${scalar(`${state}/host_ed25519`)}`],
      [/^(  hmacKeyFile: )null$/m, `$1${scalar(`${state}/audit.key`)}`],
    ];
    let text = readFileSync(example, "utf8");
    for (const [pattern, replacement] of edits) {
      if (!pattern.test(text)) throw new Error(`${example} has no line matching ${pattern}`);
      text = text.replace(pattern, replacement);
    }
    const config = parse(text);
    const expected = [config.stateDir === state, config.ca.key === `${state}/ca`,
      config.ca.trusted[0] === `${state}/ca.pub`, config.ssh.hostKeys[0] === `${state}/host_ed25519`,
      config.audit.hmacKeyFile === `${state}/audit.key`];
    if (expected.includes(false)) throw new Error(`editing ${example} did not give the expected paths`);
    writeFileSync(target, text, { mode: 0o644, flag: "wx" });
  ' "$prefix" "$prefix/config/pushgate.example.yaml" "$config_file" "$state_dir" ||
    die "could not write $config_file from $prefix/config/pushgate.example.yaml"
}

ensure_config() {
  ensure_dir "$config_dir" 0755
  if [[ -e $config_file ]]; then
    unchanged "the config $config_file (an existing config is never overwritten)"
  else
    act "create $config_file from config/pushgate.example.yaml (state, CA, host and audit HMAC keys under $state_dir)" write_new_config
  fi
  if installed && [[ -f $config_file ]]; then
    pushgate_cli config check --config "$config_file" >/dev/null ||
      die "$config_file has errors (listed above): fix them, then run install.sh again"
  fi
}

# "key<TAB>value" lines of the settings install.sh acts on, from the config as pushgate reads it.
config_paths() {
  node --input-type=module -e '
    import { dirname } from "node:path";
    import { pathToFileURL } from "node:url";
    const [prefix, file] = process.argv.slice(1);
    const { loadConfig } = await import(pathToFileURL(`${prefix}/build/src/config/index.js`).href);
    const c = loadConfig(file);
    const out = [["stateDir", c.stateDir], ["reposRoot", c.reposRoot], ["auditDir", dirname(c.audit.file)], ["auditFile", c.audit.file]];
    if (c.log.file) out.push(["logDir", dirname(c.log.file)]);
    if (c.ca.key) out.push(["caKey", c.ca.key]);
    if (c.audit.hmacKeyFile) out.push(["auditKey", c.audit.hmacKeyFile]);
    for (const key of c.ssh.hostKeys) out.push(["hostKey", key]);
    for (const [k, v] of out) console.log(`${k}\t${v}`);
  ' "$prefix" "$config_file"
}

cfg_state_dir=
cfg_repos_root=
cfg_audit_file=
cfg_extra_rw=()
cfg_keys=()

read_config_paths() {
  if ! installed || [[ ! -f $config_file ]]; then
    # Dry run before anything exists: the paths a new config would name.
    cfg_state_dir=$state_dir
    cfg_repos_root=$(sed -n 's/^reposRoot:[[:space:]]*//p' "$source_dir/config/pushgate.example.yaml" | head -n 1)
    cfg_keys=("ca:$state_dir/ca" "host:$state_dir/host_ed25519" "audit:$state_dir/audit.key")
    [[ ! -f $config_file ]] || say "(dry run: the keys and paths below assume a new config; $config_file is read once pushgate is installed)"
    return 0
  fi
  local key value lines
  lines=$(config_paths) || die "could not read $config_file"
  while IFS=$'\t' read -r key value; do
    case $key in
      stateDir) cfg_state_dir=$value ;;
      reposRoot) cfg_repos_root=$value ;;
      auditDir | logDir) cfg_extra_rw+=("$value") ;;
      auditFile) cfg_audit_file=$value ;;
      caKey) cfg_keys+=("ca:$value") ;;
      auditKey) cfg_keys+=("audit:$value") ;;
      hostKey) cfg_keys+=("host:$value") ;;
    esac
  done <<<"$lines"
  if [[ $cfg_state_dir != "$state_dir" ]]; then
    warn "$config_file names stateDir $cfg_state_dir, not --state-dir $state_dir"
  fi
}

ensure_keys() {
  local item kind path comment label
  for item in "${cfg_keys[@]}"; do
    kind=${item%%:*}
    path=${item#*:}
    comment=pushgate-$kind
    label='SSH host key'
    [[ $kind == ca ]] && label='CA key'
    [[ $kind == audit ]] && label='audit HMAC key'
    if [[ -e $path ]]; then
      unchanged "the $label $path (a key is never replaced)"
    elif [[ $kind == audit && -n $cfg_audit_file && -s $cfg_audit_file ]]; then
      # The chain is keyed from its first record: a new key would not verify the records there are.
      warn "the audit log $cfg_audit_file has records but its HMAC key $path is missing: restore the key from a backup; not creating a new one"
    elif [[ $kind == audit ]]; then
      [[ $(dirname -- "$path") == "$state_dir" ]] || ensure_dir "$(dirname -- "$path")" 0700
      act "create the $label $path" create_audit_key "$path"
    elif [[ -e $path.pub ]]; then
      warn "$path.pub exists without $path: not creating a key there; restore the private key or remove the .pub"
    else
      [[ $(dirname -- "$path") == "$state_dir" ]] || ensure_dir "$(dirname -- "$path")" 0700
      act "create the $label $path (+ .pub)" create_key "$path" "$comment"
    fi
    ensure_owner_mode "$path" 0600
  done
}

create_key() { # PATH COMMENT
  pushgate_cli ca init --key "$1" --comment "$2" >/dev/null 2>&1 || die "could not create the key $1"
}

create_audit_key() { # PATH
  pushgate_cli audit init-key "$1" >/dev/null || die "could not create the audit HMAC key $1"
}

# ── systemd ─────────────────────────────────────────────────────────────────

unit_text() {
  local rw=("$state_dir") path protect_home=yes
  [[ -n $cfg_state_dir && $cfg_state_dir != "$state_dir" ]] && rw+=("$cfg_state_dir")
  for path in "${cfg_extra_rw[@]}"; do
    [[ $path == "$state_dir"/* || $path == "$cfg_state_dir"/* ]] || rw+=("-$path")
  done
  [[ -n $cfg_repos_root ]] && rw+=("-$cfg_repos_root")
  for path in "${rw[@]}"; do
    case ${path#-} in /home | /home/* | /root | /root/* | /run/user/*) protect_home=read-only ;; esac
  done
  local unit_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  [[ :$unit_path: == *:"$node_dir":* ]] || unit_path="$node_dir:$unit_path"
  cat <<EOF
$UNIT_MARKER
[Unit]
Description=pushgate: guarded git push over SSH
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
EOF
  if [[ -n $service_user ]]; then
    say "User=$service_user"
  fi
  cat <<EOF
Environment=PATH=$unit_path:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
Environment=PUSHGATE_CONFIG=$config_file
ExecStart=$link serve --config $config_file
ExecReload=/bin/kill -HUP \$MAINPID
Restart=on-failure
RestartSec=2s
# Running git commands get ssh.limits.drainTimeout (60s by default) to finish.
TimeoutStopSec=90s
LimitNOFILE=65536
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=$protect_home
ReadWritePaths=${rw[*]}
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
SystemCallArchitectures=native
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
EOF
  if [[ -n $service_user ]]; then
    cat <<EOF
# Only the right to listen on a port below 1024 (e.g. ssh.listen 0.0.0.0:22).
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
AmbientCapabilities=CAP_NET_BIND_SERVICE
EOF
  fi
  cat <<EOF

[Install]
WantedBy=multi-user.target
EOF
}

ensure_unit() {
  want_unit || return 0
  local text
  text=$(unit_text)
  [[ -n $service_user ]] || warn "no --user: the unit runs pushgate as root; pass --user git (or your Git user) to run it as a service user"
  ensure_dir "$systemd_dir" 0755
  if [[ -f $unit_file && $(cat -- "$unit_file") == "$text" ]]; then
    unchanged "the unit $unit_file"
  else
    if [[ -f $unit_file ]] && ! grep -q -F "$UNIT_MARKER" "$unit_file"; then
      die "$unit_file exists and was not written by install.sh: remove it, or pass --no-systemd"
    fi
    act "write $unit_file" write_file "$unit_file" "$text" 0644
    if systemd_running; then act "reload systemd (systemctl daemon-reload)" systemctl daemon-reload; fi
  fi
  if ((enable)); then
    systemd_running || die "--enable needs a running systemd (no /run/systemd/system or no systemctl here)"
    if [[ $(systemctl is-enabled pushgate.service 2>/dev/null || true) == enabled && $(systemctl is-active pushgate.service 2>/dev/null || true) == active ]]; then
      unchanged "pushgate.service is enabled and running"
    else
      act "enable and start pushgate.service (systemctl enable --now pushgate)" systemctl enable --now pushgate.service
    fi
  fi
}

# ── Hooks ───────────────────────────────────────────────────────────────────

hooks_missed=0

# Paths matching GLOB (globstar on, nothing when nothing matches), NUL-separated.
expand_glob() {
  local IFS=
  shopt -s globstar nullglob
  # shellcheck disable=SC2206 # expanded on purpose; an empty IFS means no word splitting
  local found=($1)
  ((${#found[@]} == 0)) || printf '%s\0' "${found[@]}"
}

install_repo_hooks() {
  [[ -n $hooks_glob ]] || return 0
  local matches=() repos=() path
  mapfile -d '' matches < <(expand_glob "$hooks_glob")
  for path in "${matches[@]}"; do
    if [[ -d $path && $(git -C "$path" rev-parse --is-bare-repository 2>/dev/null) == true ]]; then
      repos+=("$path")
    fi
  done
  if ((${#repos[@]} == 0)); then
    warn "--hooks '$hooks_glob' matched no bare repository (${#matches[@]} paths matched, none a bare repository): no hooks were installed"
    hooks_missed=1
    return 0
  fi
  if ((dry_run)) || ! installed; then
    changes=$((changes + 1))
    say "would run: pushgate repo install-hooks --config $config_file on ${#repos[@]} repositories:"
    printf '  %s\n' "${repos[@]}"
    return 0
  fi
  local output
  output=$(pushgate_cli repo install-hooks --config "$config_file" -- "${repos[@]}") || {
    printf '%s\n' "$output"
    die "pushgate repo install-hooks failed for some repositories (see above)"
  }
  printf '%s\n' "$output"
  if grep -q ': installed ' <<<"$output"; then changes=$((changes + 1)); fi
}

# ── Run ─────────────────────────────────────────────────────────────────────

next_steps() {
  local owner=${service_user:-root}
  cat <<EOF

Next steps:
  1. Review $config_file (reposRoot, ssh.listen, access rules), then check it:
       pushgate config check --config $config_file
  2. The service runs git as $owner: the repositories under ${cfg_repos_root:-reposRoot} must be writable by $owner.
  3. Put pushgate's hooks into the existing bare repositories:
       pushgate repo install-hooks --config $config_file ${cfg_repos_root:-/srv/git}/**/*.git
  4. Start it:  $(if want_unit; then echo "systemctl enable --now pushgate"; else echo "pushgate serve --config $config_file"; fi)
  5. Clients pin the host key $state_dir/host_ed25519.pub; sign a user certificate with
       pushgate ca sign --ca $state_dir/ca --principal alice --role agent alice.pub
EOF
}

check_prefix
ensure_build
claim_prefix
sync_payload
install_dependencies
ensure_link
ensure_user
ensure_dir "$state_dir" 0700
ensure_owner_mode "$state_dir" 0700
ensure_config
read_config_paths
ensure_keys
ensure_unit
install_repo_hooks

if ((dry_run)); then
  say "pushgate install (dry run): $changes actions would run; nothing was changed"
elif ((changes == 0)); then
  say "pushgate install: unchanged (everything was already in place)"
else
  say "pushgate install: done ($changes change$( ((changes == 1)) || echo s))"
fi
next_steps
if ((hooks_missed)); then exit 1; fi
