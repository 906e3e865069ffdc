#!/usr/bin/env bash
# Installs (when missing) and starts Podman's Docker-compatible service on a private socket, for
# the Docker driver's tests on Podman, and loads the busybox:latest test image into it from the
# Docker engine (no registry can be reached). Idempotent: safe to run when the service is up. Runs
# as root (the service is rootful); used by .ci/run after scripts/docker-up.sh, and by developers.
#
# What it sets up, all under PODMAN_UP_DIR (/run/orchestra-podman):
# - containers.conf, pointed to by CONTAINERS_CONF for the service and `podman load`:
#   explicit default_ulimits (Podman's defaults fail on machines whose limits cannot be raised:
#   "error setting rlimit type 7: operation not permitted") and runtime = "runc" (with crun
#   installed Podman picks it, and crun refuses the cgroup v1 setup of some machines);
# - podman.sock, served by `podman system service --time=0` (log in service.log, pid in
#   service.pid), started with setsid so that it outlives this script.
#
# Who may use the socket: the service runs as root, so its socket is as powerful as Docker's (a
# user who reaches it is root on the machine). The directory is world-traversable (0755); the
# socket is made 0660 and given to the group PODMAN_UP_GROUP: by default the primary group of the
# user who ran this script through sudo (SUDO_USER; GitHub's runner user), else root's. The tests
# then reach it as that user, as they reach Docker through the docker group.
#
# Environment: PODMAN_UP_DIR (/run/orchestra-podman), PODMAN_UP_GROUP (see above),
# PODMAN_UP_WAIT_SECONDS (60).
set -euo pipefail

IMAGE="busybox:latest"
DIR="${PODMAN_UP_DIR:-/run/orchestra-podman}"
SOCKET="$DIR/podman.sock"
CONF="$DIR/containers.conf"
LOG="$DIR/service.log"
PIDFILE="$DIR/service.pid"
WAIT_SECONDS="${PODMAN_UP_WAIT_SECONDS:-60}"
export CONTAINERS_CONF="$CONF"

say() { echo "podman-up: $*" >&2; }

if [[ $EUID -ne 0 ]]; then
  say "must run as root (the service is rootful); run it with sudo"
  exit 1
fi

install_packages() {
  local missing=() package
  for package in podman catatonit; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if ((${#missing[@]} > 0)); then
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

write_config() {
  mkdir -p "$DIR"
  chmod 0755 "$DIR"
  cat >"$CONF.new" <<'EOF'
# Written by scripts/podman-up.sh: the settings Podman needs on the project's test machines.
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
runtime = "runc"
EOF
  mv "$CONF.new" "$CONF"
}

service_answers() {
  [[ -S "$SOCKET" ]] &&
    timeout 15 podman --remote --url "unix://$SOCKET" version >/dev/null 2>&1
}

service_running() {
  local pid
  [[ -r "$PIDFILE" ]] || return 1
  pid="$(<"$PIDFILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

start_service() {
  if service_running; then
    say "the service (pid $(<"$PIDFILE")) runs but does not answer yet; waiting for it"
  else
    rm -f "$SOCKET"
    say "starting podman system service on $SOCKET, log in $LOG"
    # In its own directory: conmon writes some files (an "oom" marker) into the working directory.
    cd "$DIR"
    setsid podman system service --time=0 "unix://$SOCKET" >>"$LOG" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
  fi
  local deadline=$((SECONDS + WAIT_SECONDS))
  until service_answers; do
    if ((SECONDS >= deadline)); then
      say "the service did not answer within ${WAIT_SECONDS}s; last lines of $LOG:"
      tail -n 40 "$LOG" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
}

open_socket() {
  local group="${PODMAN_UP_GROUP:-}"
  if [[ -z "$group" && -n "${SUDO_USER:-}" ]]; then
    group="$(id -gn "$SUDO_USER")"
  fi
  chmod 0660 "$SOCKET"
  if [[ -n "$group" ]]; then
    chgrp "$group" "$SOCKET"
    say "socket $SOCKET is open to group $group"
  fi
}

load_image() {
  if podman image exists "$IMAGE"; then
    say "$IMAGE already present"
    return
  fi
  if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
    say "the Docker engine has no $IMAGE to copy; run scripts/docker-up.sh first"
    exit 1
  fi
  docker save "$IMAGE" | podman load -q >/dev/null
  say "loaded $IMAGE from the Docker engine"
}

install_packages
write_config
if service_answers; then
  say "service already answers on $SOCKET"
else
  start_service
fi
open_socket
load_image
say "Podman $(podman --remote --url "unix://$SOCKET" version --format '{{.Server.Version}}')" \
  "answers on unix://$SOCKET"
