#!/usr/bin/env bash
# Installs (when missing) and starts a local Docker engine, then builds the busybox:latest test
# image from busybox-static, since no registry can be reached. Idempotent: safe to run when the
# engine is already up. Runs as root. Used by .ci/run and by developers on a fresh VM.
set -euo pipefail

IMAGE="busybox:latest"
WAIT_SECONDS="${DOCKER_UP_WAIT_SECONDS:-60}"
LOG="${DOCKERD_LOG:-/var/log/dockerd.log}"
PIDFILE=/var/run/docker.pid

say() { echo "docker-up: $*" >&2; }

require_root() {
  if [[ $EUID -ne 0 ]]; then
    say "must run as root to $1 (or start Docker yourself and re-run)"
    exit 1
  fi
}

engine_answers() { docker info >/dev/null 2>&1; }

# Installs the Debian packages that are missing, among: docker.io busybox-static.
install_packages() {
  local missing=() package
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if ((${#missing[@]} > 0)); then
    require_root "install ${missing[*]}"
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

start_engine() {
  require_root "start dockerd"
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    if [[ -e "$PIDFILE" ]]; then
      say "removing stale $PIDFILE (no dockerd runs)"
      rm -f "$PIDFILE"
    fi
    mkdir -p "$(dirname "$LOG")"
    say "starting dockerd, log in $LOG"
    setsid dockerd >>"$LOG" 2>&1 </dev/null &
  else
    say "dockerd runs but does not answer yet; waiting for it"
  fi
  local deadline=$((SECONDS + WAIT_SECONDS))
  until engine_answers; do
    if ((SECONDS >= deadline)); then
      say "the engine did not answer within ${WAIT_SECONDS}s; last lines of $LOG:"
      tail -n 40 "$LOG" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
  say "engine answers: $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"
}

build_busybox_image() {
  if docker image inspect "$IMAGE" >/dev/null 2>&1; then
    say "$IMAGE already present"
    return
  fi
  local busybox=/bin/busybox
  if ! file_is_static "$busybox"; then
    say "$busybox is not statically linked; install busybox-static"
    exit 1
  fi
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  local root="$work/root"
  mkdir -p "$root/bin" "$root/etc" "$root/tmp"
  cp "$busybox" "$root/bin/busybox"
  local applet
  for applet in $("$busybox" --list); do
    [[ "$applet" == busybox ]] && continue
    ln -sf busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
    >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  chmod 1777 "$root/tmp"
  tar -C "$root" -c . | docker import -c 'ENV PATH=/bin' - "$IMAGE" >/dev/null
  say "built $IMAGE from $busybox"
}

file_is_static() {
  # The image has no libc: only a statically linked busybox runs in it.
  local answer
  answer="$(LC_ALL=C ldd "$1" 2>&1 || true)"
  [[ "$answer" == *"not a dynamic executable"* ]]
}

if ! engine_answers; then
  install_packages docker.io
  start_engine
else
  say "engine already answers"
fi
if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  install_packages busybox-static
fi
build_busybox_image
