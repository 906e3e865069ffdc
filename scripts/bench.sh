#!/usr/bin/env bash
# Runs the complete benchmark report (docs/benchmarks.md), every row measured: besides the local
# Docker engine, the SSH row gets an engine reached over SSH and the Podman row Podman's service.
#
# - SSH: a private sshd (/usr/sbin/sshd, package openssh-server) on a loopback port, started as
#   this user with keys generated for the run, in front of this machine's Docker engine. The
#   row's driver gets its known_hosts and identity as parameters (-Dbench.sshKnownHosts,
#   -Dbench.sshIdentityFile); the Docker CLI, its baseline, gets them through an `ssh` on
#   PATH that adds `-F` with a config of the run's own. Nothing in ~/.ssh is read or changed. The
#   sshd is stopped and the keys are removed when the run ends.
# - Podman: the socket scripts/podman-up.sh starts (ORCHESTRA_PODMAN_HOST overrides it); without
#   it the row says it was not measured.
#
# Arguments are passed to Maven, e.g. `bash scripts/bench.sh -Dbench.rows=docker-ssh`.
# Environment: BENCH_SSH_PORT (2222).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${BENCH_SSH_PORT:-2222}"
USER_NAME="$(id -un)"
DIR="$(mktemp -d "${TMPDIR:-/tmp}/orchestra-bench-ssh.XXXXXX")"
SSHD_PID=""
cleanup() {
  if [[ -n "$SSHD_PID" ]]; then
    kill "$SSHD_PID" 2>/dev/null || true
  fi
  rm -rf "$DIR"
}
trap cleanup EXIT

ssh_args=()
if [[ -x /usr/sbin/sshd ]]; then
  chmod 0700 "$DIR"
  ssh-keygen -q -t ed25519 -N '' -f "$DIR/host_ed25519"
  ssh-keygen -q -t ed25519 -N '' -f "$DIR/id_ed25519"
  cp "$DIR/id_ed25519.pub" "$DIR/authorized_keys"
  cat > "$DIR/sshd_config" <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey $DIR/host_ed25519
AuthorizedKeysFile $DIR/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
PidFile $DIR/sshd.pid
AllowStreamLocalForwarding yes
EOF
  /usr/sbin/sshd -D -e -f "$DIR/sshd_config" 2> "$DIR/sshd.log" &
  SSHD_PID=$!
  echo "[127.0.0.1]:$PORT $(cut -d' ' -f1-2 "$DIR/host_ed25519.pub")" > "$DIR/known_hosts"
  cat > "$DIR/ssh_config" <<EOF
Host 127.0.0.1
  Port $PORT
  User $USER_NAME
  IdentityFile $DIR/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $DIR/known_hosts
  StrictHostKeyChecking yes
EOF
  mkdir "$DIR/bin"
  printf '#!/bin/sh\nexec %s -F %s "$@"\n' "$(command -v ssh)" "$DIR/ssh_config" > "$DIR/bin/ssh"
  chmod +x "$DIR/bin/ssh"
  for _ in $(seq 50); do
    if PATH="$DIR/bin:$PATH" ssh -o BatchMode=yes 127.0.0.1 true 2>/dev/null; then
      break
    fi
    sleep 0.2
  done
  if ! PATH="$DIR/bin:$PATH" ssh -o BatchMode=yes 127.0.0.1 docker version >/dev/null; then
    echo "bench.sh: the private sshd on port $PORT does not let $USER_NAME reach docker:" >&2
    tail -n 5 "$DIR/sshd.log" >&2
    exit 1
  fi
  export PATH="$DIR/bin:$PATH"
  ssh_args=("-Dbench.sshHost=ssh://$USER_NAME@127.0.0.1:$PORT"
    "-Dbench.sshKnownHosts=$DIR/known_hosts" "-Dbench.sshIdentityFile=$DIR/id_ed25519")
else
  echo "bench.sh: no /usr/sbin/sshd (package openssh-server): the SSH row is not measured" >&2
fi

mvn -q -pl orchestra-bench -am -DskipTests -Pbench verify "${ssh_args[@]}" "$@"
