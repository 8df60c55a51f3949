#!/bin/sh
# The system tools the test suite drives, and the Debian/Ubuntu packages that
# provide them: one list, used by `npm test` (--check, before anything runs)
# and by CI (installs what is missing).
#
#   scripts/install-test-tools.sh           install what is missing (as root: apt-get)
#   scripts/install-test-tools.sh --check   exit 1 and print the install command if anything is missing
#
# To add a tool: one line "COMMAND PACKAGE  # what needs it" below. COMMAND is
# looked up on the PATH, or taken as a path when it starts with /.
set -eu

TOOLS='
git              git              # every test that pushes, the hook, the queue
ssh              openssh-client   # the gateway and login tests, the docs
ssh-keygen       openssh-client   # keys, certificates and KRLs
ssh-keyscan      openssh-client   # known_hosts lines
/usr/sbin/sshd   openssh-server   # pushgate shell behind OpenSSH sshd
curl             curl             # the guides'"'"' curl examples
openssl          openssl          # a throw-away TLS certificate in a hook test
systemd-analyze  systemd          # install.sh'"'"'s unit is verified
strace           strace           # the gateway path test traces the server
chromium         chromium         # the review console browser tests (headless)
git-shell        git              # upstream mode: an sshd + git-shell upstream
gitolite         gitolite3        # upstream mode: a gitolite upstream behind sshd
/usr/sbin/nginx  nginx            # upstream mode: the smart-HTTPS upstream
/usr/sbin/fcgiwrap fcgiwrap       # upstream mode: runs git http-backend for nginx
'

missing_packages() {
  printf '%s\n' "$TOOLS" | while read -r tool package _; do
    case "$tool" in '' | '#'*) continue ;; esac
    case "$tool" in
      /*) [ -x "$tool" ] && continue ;;
      *) command -v "$tool" >/dev/null 2>&1 && continue ;;
    esac
    printf '%s %s\n' "$package" "$tool"
  done
}

missing=$(missing_packages)
packages=$(printf '%s\n' "$missing" | awk 'NF { print $1 }' | sort -u | tr '\n' ' ' | sed 's/ $//')
tools=$(printf '%s\n' "$missing" | awk 'NF { print $2 }' | tr '\n' ' ' | sed 's/ $//')

case "${1:-}" in
  --check)
    [ -z "$packages" ] && exit 0
    sudo=''
    [ "$(id -u)" -eq 0 ] || sudo='sudo '
    echo "npm test: missing system tools: $tools" >&2
    echo "install them (Debian/Ubuntu) with:" >&2
    echo "  ${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends $packages" >&2
    echo "(or run scripts/install-test-tools.sh as root)" >&2
    exit 1
    ;;
  '')
    if [ -z "$packages" ]; then
      echo "test tools: all present"
      exit 0
    fi
    echo "test tools: installing $packages (for $tools)"
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086 # one word per package
    apt-get update -qq && apt-get install -y -qq --no-install-recommends $packages
    [ -z "$(missing_packages)" ] || { echo "test tools: still missing after the install: $(missing_packages | awk '{ print $2 }' | tr '\n' ' ')" >&2; exit 1; }
    ;;
  -h | --help)
    sed -n '2,10s/^# \{0,1\}//p' "$0"
    ;;
  *)
    echo "install-test-tools.sh: unknown option $1 (try --help)" >&2
    exit 2
    ;;
esac
