#!/usr/bin/env bash
# Installs (when missing) and starts a local Docker engine, then builds the busybox:latest test
# image from busybox-static, since no registry can be reached. Idempotent: safe to run when the
# engine is already up. Runs as root (as another user, it only checks that the engine answers and
# the image is there). Needs bash, coreutils, tar, ldd, setsid; installs docker.io and busybox-static
# with dpkg and apt-get. Used by .ci/run and by developers on a fresh VM.
#
# Last, it checks that the engine runs a container within DOCKER_UP_PROBE_SECONDS (60). An engine
# can answer `docker info` and `docker ps` while every create, start and inspect blocks for good:
# Debian's docker.io 20.10.24 does, in a libnetwork deadlock under container churn
# (moby/moby#46661, moby/libnetwork#2649; the fix never reached that package). Only a restart of
# the daemon clears it, so when the probe hangs while `docker info` answers, this script restarts
# dockerd (SIGTERM to the pid in its pid file, SIGKILL if it is not gone within
# DOCKER_UP_WAIT_SECONDS, the stale pid file removed, started again) and probes once more; it
# fails if the engine still does not run a container.
#
# To recover a hung engine by hand (as root): kill "$(cat /var/run/docker.pid)", wait until
# dockerd is gone, and run this script.
#
# Environment: DOCKER_UP_WAIT_SECONDS (60), DOCKER_UP_PROBE_SECONDS (60), DOCKERD_LOG
# (/var/log/dockerd.log), DOCKER_PIDFILE (/var/run/docker.pid, the daemon's default).
set -euo pipefail

IMAGE="busybox:latest"
WAIT_SECONDS="${DOCKER_UP_WAIT_SECONDS:-60}"
PROBE_SECONDS="${DOCKER_UP_PROBE_SECONDS:-60}"
LOG="${DOCKERD_LOG:-/var/log/dockerd.log}"
PIDFILE="${DOCKER_PIDFILE:-/var/run/docker.pid}"
# Labels the probe's containers, so that those a hung engine kept are removed after the restart.
PROBE_LABEL="dev.orchestra.health-probe"

say() { echo "docker-up: $*" >&2; }

require_root() {
  if [[ $EUID -ne 0 ]]; then
    say "must run as root to $1 (or start Docker yourself and re-run)"
    exit 1
  fi
}

# Fails, naming them, when commands the next step needs are not on the PATH.
require_commands() {
  local missing=() command
  for command in "$@"; do
    command -v "$command" >/dev/null 2>&1 || missing+=("$command")
  done
  if ((${#missing[@]} > 0)); then
    say "needs ${missing[*]}, not found on the PATH"
    exit 1
  fi
}

engine_answers() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

# Whether the pid file names a running dockerd. Reads /proc, so that it needs no procps.
pidfile_names_a_dockerd() {
  local pid name
  [[ -r "$PIDFILE" ]] || return 1
  pid="$(<"$PIDFILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  { read -r name <"/proc/$pid/comm"; } 2>/dev/null && [[ "$name" == dockerd ]]
}

# Installs the Debian packages that are missing, among: docker.io busybox-static.
install_packages() {
  local missing=() package
  require_commands dpkg
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if ((${#missing[@]} > 0)); then
    require_root "install ${missing[*]}"
    require_commands apt-get
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

start_engine() {
  require_root "start dockerd"
  require_commands docker dockerd setsid
  if ! pidfile_names_a_dockerd; then
    if [[ -e "$PIDFILE" ]]; then
      say "removing stale $PIDFILE (the process it names is no dockerd)"
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
  require_commands ldd tar
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

# Whether the engine runs a container (created, started, waited for, removed) within the bound.
engine_runs_containers() {
  timeout --kill-after=5 "$PROBE_SECONDS" \
    docker run --rm --label "$PROBE_LABEL=true" "$IMAGE" true >/dev/null 2>&1
}

# Stops the dockerd of the pid file (SIGTERM, then SIGKILL), waits until it is gone, removes the
# pid file and starts the daemon again.
restart_engine() {
  require_root "restart dockerd"
  local pid
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    say "stopping dockerd (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_until_gone "$pid" "$WAIT_SECONDS"; then
      say "dockerd (pid $pid) did not stop within ${WAIT_SECONDS}s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      if ! wait_until_gone "$pid" "$WAIT_SECONDS"; then
        say "dockerd (pid $pid) is still there after SIGKILL; giving up"
        exit 1
      fi
    fi
  else
    say "no running dockerd in $PIDFILE to stop"
  fi
  if [[ -e "$PIDFILE" ]]; then
    say "removing stale $PIDFILE"
    rm -f "$PIDFILE"
  fi
  start_engine
}

wait_until_gone() {
  local pid="$1" deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      return 1
    fi
    sleep 0.5
  done
}

# Removes the probe containers a hung engine kept (best effort).
remove_probe_leftovers() {
  local ids
  ids="$(timeout 30 docker ps -aq --filter "label=$PROBE_LABEL" 2>/dev/null || true)"
  if [[ -n "$ids" ]]; then
    # shellcheck disable=SC2086
    timeout 60 docker rm -f $ids >/dev/null 2>&1 || true
  fi
}

require_engine_runs_containers() {
  if engine_runs_containers; then
    say "engine runs containers"
    return
  fi
  if ! engine_answers; then
    say "the engine stopped answering; last lines of $LOG:"
    tail -n 40 "$LOG" >&2 || true
    exit 1
  fi
  say "the engine answers 'docker info' but did not run a container within ${PROBE_SECONDS}s:" \
    "most likely the libnetwork deadlock of Debian's docker.io 20.10.24 (moby/moby#46661," \
    "moby/libnetwork#2649); restarting dockerd"
  restart_engine
  remove_probe_leftovers
  if ! engine_runs_containers; then
    say "the engine still does not run a container within ${PROBE_SECONDS}s after a restart;" \
      "last lines of $LOG:"
    tail -n 40 "$LOG" >&2 || true
    exit 1
  fi
  say "engine runs containers again after the restart"
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
require_engine_runs_containers
