#!/usr/bin/env bash
# Make the kit's bubblewrap sandbox work on a CI runner, then say which isolation grading will use.
#
#   scripts/ci-sandbox.sh [--require]
#
# Installs bubblewrap (apt-get) if it is missing. Ubuntu 24.04 (GitHub's ubuntu-latest) denies
# unprivileged user namespaces to programs without an AppArmor profile, so bwrap fails there with
# "setting up uid map: Permission denied"; when that restriction is on and bwrap does not work,
# this gives /usr/bin/bwrap (and nothing else) a profile that allows them.
# The kit falls back to plain worker processes where bwrap cannot run; --require makes that an
# error instead (grading other people's code: grade-class.yml). Run it after installing the kit:
# it asks the kit's own probe (autograder.sandbox.bwrap_works) whether the sandbox works.
set -euo pipefail

require=false
[ "${1:-}" = "--require" ] && require=true
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
python=${PYTHON:-python}

works() {
  "$python" -c 'import sys; from autograder.sandbox import bwrap_works; sys.exit(not bwrap_works())'
}

if ! command -v bwrap >/dev/null; then
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq bubblewrap
fi

restricted=/proc/sys/kernel/apparmor_restrict_unprivileged_userns
if ! works && [ "$(cat "$restricted" 2>/dev/null || echo 0)" = 1 ] \
  && command -v apparmor_parser >/dev/null; then
  echo "bwrap cannot create user namespaces under AppArmor's restriction; adding a profile for it"
  "${sudo[@]}" tee /etc/apparmor.d/bwrap >/dev/null <<'PROFILE'
abi <abi/4.0>,
include <tunables/global>

profile bwrap /usr/bin/bwrap flags=(unconfined) {
  userns,

  include if exists <local/bwrap>
}
PROFILE
  "${sudo[@]}" apparmor_parser -r /etc/apparmor.d/bwrap
fi

if works; then
  echo "sandbox: bubblewrap works; student code runs isolated (isolation: bwrap)"
elif [ "$require" = true ]; then
  echo "::error::bubblewrap does not work on this runner; refusing to run untrusted notebooks" \
    "as plain processes (set SANDBOX=best-effort in the workflow to allow it)"
  exit 1
else
  echo "::warning::bubblewrap does not work on this runner; notebooks run as plain processes"
fi
