#!/usr/bin/env bash
# Runs `.ci/run` the way GitHub Actions' runner does: as a non-root user in the `docker` group with
# password-less sudo, on a fresh clone of the committed HEAD (uncommitted and root-owned files stay
# out), in a login environment of its own (HOME, PATH, ~/.m2). Run it as root; idempotent.
#
#   bash scripts/ci-as-user.sh        # user `runner` unless CI_USER says otherwise
#
# Its Maven repository starts as a copy of root's (without this project's own artifacts, which
# the reactor builds), so that only what is missing is downloaded from Maven Central.
# Exits with the status of `.ci/run`, after a summary of the tests it ran.
set -euo pipefail

CI_USER="${CI_USER:-runner}"
SOCKET=/var/run/docker.sock
repo="$(cd "$(dirname "$0")/.." && pwd)"

say() { echo "ci-as-user: $*" >&2; }
fail() {
  say "$*"
  exit 1
}

[[ $EUID -eq 0 ]] || fail "run as root: it creates the user $CI_USER and gives it sudo"
for tool in git getent groupadd useradd usermod runuser install; do
  command -v "$tool" >/dev/null 2>&1 || fail "needs $tool, which is not on the PATH"
done
if ! command -v sudo >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || fail "needs sudo, and there is no apt-get to install it"
  say "installing sudo"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sudo >/dev/null
fi

# The user, as GitHub's: in the docker group, password-less sudo.
getent group docker >/dev/null || groupadd --system docker
if ! id "$CI_USER" >/dev/null 2>&1; then
  say "creating user $CI_USER"
  useradd --create-home --shell /bin/bash "$CI_USER"
fi
usermod --append --groups docker "$CI_USER"
sudoers="/etc/sudoers.d/ci-as-user-$CI_USER"
printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$CI_USER" >"$sudoers.tmp"
chmod 0440 "$sudoers.tmp"
if command -v visudo >/dev/null 2>&1 && ! visudo -cqf "$sudoers.tmp"; then
  rm -f "$sudoers.tmp"
  fail "visudo refused the sudoers line for $CI_USER"
fi
mv "$sudoers.tmp" "$sudoers"
home="$(getent passwd "$CI_USER" | cut -d: -f6)"

# dockerd gives its socket to the docker group only if the group existed when it started.
if [[ -S $SOCKET ]] && [[ "$(stat -c %G "$SOCKET")" != docker ]]; then
  say "$SOCKET belongs to group $(stat -c %G "$SOCKET"); giving it to group docker, as dockerd would"
  chgrp docker "$SOCKET"
  chmod 0660 "$SOCKET"
fi

# A fresh clone of the committed HEAD, owned by the user.
bundle="$(mktemp /tmp/ci-as-user-XXXXXX.bundle)"
trap 'rm -f "$bundle"' EXIT
git -C "$repo" bundle create "$bundle" HEAD 2>/dev/null
chmod 0644 "$bundle"
commit="$(git -C "$repo" rev-parse --short HEAD)"
rm -rf "$home/orchestra"
runuser -u "$CI_USER" -- git -c advice.detachedHead=false clone -q "$bundle" "$home/orchestra"
say "cloned $commit into $home/orchestra"

# Its own Maven repository.
m2="$home/.m2/repository"
if [[ ! -d $m2 && -d /root/.m2/repository ]]; then
  say "copying root's Maven repository into $m2"
  install -d -o "$CI_USER" -g "$(id -gn "$CI_USER")" "$home/.m2"
  cp -a /root/.m2/repository "$m2"
  rm -rf "$m2/dev/orchestra"
  chown -R "$CI_USER:" "$home/.m2"
fi

say "running .ci/run as $CI_USER (groups: $(id -Gn "$CI_USER"))"
started=$SECONDS
status=0
runuser -l "$CI_USER" -c 'cd ~/orchestra && bash .ci/run' || status=$?
elapsed=$((SECONDS - started))

# The tests' totals, from the reports of every module: test cases, and those that failed,
# erred or were skipped.
reports() { find "$home/orchestra" -path '*/surefire-reports/TEST-*.xml' -exec cat {} +; }
count() { reports | { grep -Eo "$1" || true; } | wc -l; }
summary="$(count '<testcase ') tests, $(count '<failure[ >]') failures, $(count '<error[ >]') errors"
summary+=", $(count '<skipped[ />]') skipped"
say ".ci/run as $CI_USER on $commit: exit $status after $((elapsed / 60))m$((elapsed % 60))s; $summary"
exit "$status"
