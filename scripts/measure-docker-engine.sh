#!/usr/bin/env bash
# Measures what the Docker engine itself does, where the docker driver's behaviour depends on it,
# and writes docs/docker-engine.md: how it reports OOM kills, how its own follow stream crosses a
# log file rotation, and what its `local` log driver keeps. Needs a running engine with the
# `busybox` image (scripts/docker-up.sh), the docker CLI, and read access to the engine's data
# root (root or sudo) for the log file sizes. Takes several minutes; nothing of it is left behind.
#
#   scripts/measure-docker-engine.sh [OOM_TASKS] [PARALLEL]
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
report="$here/docs/docker-engine.md"
oom_tasks=${1:-128}
parallel=${2:-16}
label="dev.orchestra.measure=$$-$RANDOM"
work=$(mktemp -d)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

cleanup() {
  docker ps -aq --filter "label=$label" | xargs -r docker rm -f >/dev/null 2>&1 || true
  [ -n "${events_pid:-}" ] && kill "$events_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

log_opts=(--log-driver local --log-opt max-size=100m --log-opt max-file=11 --log-opt compress=false)
engine=$(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')
echo "measuring the Docker engine $engine" >&2

# --- 1. OOM kills: the order of the engine's oom and die events, and State.OOMKilled
docker events --filter "label=$label" --filter event=oom --filter event=die \
  --format '{{.Action}} {{.Actor.ID}} {{.TimeNano}}' >"$work/events" &
events_pid=$!
sleep 1
oom_one() {
  docker run -d --init -m 16m --label "$label" --label dev.orchestra.measure.oom=1 "${log_opts[@]}" \
    busybox sh -c 'head -c 67108864 /dev/zero | tail' >/dev/null
}
export -f oom_one
export label
seq "$oom_tasks" | xargs -P "$parallel" -I{} bash -c "$(declare -p log_opts); oom_one" >/dev/null
echo "  $oom_tasks memory-limited tasks started, $parallel at a time; waiting for their ends" >&2
while [ -n "$(docker ps -q --filter "label=$label" --filter label=dev.orchestra.measure.oom=1)" ]; do
  sleep 1
done
sleep 30 # late oom events
kill "$events_pid"
events_pid=""
for id in $(docker ps -aq --no-trunc --filter "label=$label" --filter label=dev.orchestra.measure.oom=1); do
  echo "$id $(docker inspect -f '{{.State.ExitCode}} {{.State.OOMKilled}}' "$id")"
done >"$work/states"
oom_table=$(awk '
  FNR == NR { if (!($2 in die) && $1 == "die") die[$2] = $3; if (!($2 in oom) && $1 == "oom") oom[$2] = $3; next }
  { total++; codes[$2]++; id = $1
    if (!(id in oom)) { never++; if ($3 == "true") neverTrue++ }
    else if (oom[id] < die[id]) { first++; if ($3 == "true") firstTrue++ }
    else { late++; ms = (oom[id] - die[id]) / 1e6; if (ms > maxLate) maxLate = ms; if (minLate == "" || ms < minLate) minLate = ms; if ($3 == "true") lateTrue++ } }
  END {
    printf "| OOM-killed tasks (exit 137: %d of %d) | %d |\n", codes[137], total, total
    printf "| `oom` event before the `die` | %d (State.OOMKilled true in %d) |\n", first, firstTrue
    printf "| `oom` event after the `die` | %d (State.OOMKilled true in %d), %.0f to %.0f ms after it |\n", late, lateTrue, minLate, maxLate
    printf "| no `oom` event within 30 s | %d (State.OOMKilled true in %d) |\n", never, neverTrue
  }' "$work/events" "$work/states")
docker ps -aq --filter "label=$label" | xargs -r docker rm -f >/dev/null

# --- 2. The engine's own follow stream across rotations: 1000-byte numbered lines, 300 MB in two
# parts; the reader falls two files behind during the first, the second comes 20 s later.
print() { echo "awk 'BEGIN { for (i = $1; i <= $2; i++) printf \"%0999d\\n\", i }'"; }
follow_id=$(docker create --init --label "$label" "${log_opts[@]}" busybox sh -c \
  "$(print 1 200000); sleep 20; $(print 200001 300000)")
docker start "$follow_id" >/dev/null
follow_result=$(docker logs -f "$follow_id" 2>/dev/null | (sleep 12; awk '
  { v = $1 + 0; if (v != n + 1) { if (bad < 3) jumps = jumps sprintf("%s%d came after %d", bad ? "; " : "", v, n); bad++ } n = v }
  END { printf "%d lines of 300000, %d out of order: %s", NR, bad, jumps }'))
docker rm -f "$follow_id" >/dev/null

# --- 3. What the local log driver stores per line, and where it rotates
framing_rows=""
for width in 1 16 128 1000; do
  count=$((2000000 / width))
  [ "$count" -gt 200000 ] && count=200000
  line="%0$((width - 1))d\\n"
  [ "$width" -eq 1 ] && line="\\n"
  id=$(docker create --init --label "$label" "${log_opts[@]}" busybox \
    awk "BEGIN { for (i = 0; i < $count; i++) printf \"$line\", i % 10 }")
  docker start "$id" >/dev/null
  docker wait "$id" >/dev/null
  file=$($sudo find "$(docker info -f '{{.DockerRootDir}}')/containers/$id" -name container.log)
  size=$($sudo stat -c %s "$file")
  framing_rows+="| $width | $count | $size | $((size / count)) | $((size / count - width)) |"$'\n'
  docker rm -f "$id" >/dev/null
done
rot_id=$(docker create --init --label "$label" "${log_opts[@]}" busybox \
  awk 'BEGIN { for (i = 1; i <= 250000; i++) printf "%0999d\n", i }')
docker start "$rot_id" >/dev/null
docker wait "$rot_id" >/dev/null
rot_dir=$(dirname "$($sudo find "$(docker info -f '{{.DockerRootDir}}')/containers/$rot_id" -name container.log)")
rot_files=$($sudo ls -l "$rot_dir" | awk '/container.log/ { printf "%s%s %d", sep, $NF, $5; sep = ", " }')
docker rm -f "$rot_id" >/dev/null

cat >"$report" <<EOF
# What the Docker engine does (measured)

Written by \`scripts/measure-docker-engine.sh\` on $(date -u +%Y-%m-%d) against Docker Engine
$engine; do not edit by hand. The docker driver's behaviour that depends on these facts is
described on [its page](drivers/docker.md).

## OOM kills

$oom_tasks tasks, $parallel at a time, each \`sh -c 'head -c 67108864 /dev/zero | tail'\` under a
16 MiB memory limit (\`--init\`). The engine reports an OOM kill as an \`oom\` event and in
\`State.OOMKilled\`, separately from the exit (\`die\`); the table counts, per task, whether its
first \`oom\` event came before or after its \`die\` (by the engine's own event times), or not at
all within 30 s of the last exit.

| | tasks |
| --- | --- |
$oom_table

## The engine's own follow stream across a log rotation

\`docker logs -f\` of a task that writes 300,000 numbered lines of 1000 bytes (300 MB) with the
driver's log options: 200,000 lines, a pause of 20 s, 100,000 more. The reader takes nothing for
the first 12 s (it falls two log files behind), then reads everything:
$follow_result.

## What the \`local\` log driver keeps

The driver's log options are \`max-size=100m\` (10^8 bytes: Docker's \`m\` is decimal),
\`max-file=11\`, \`compress=false\`. Bytes on disk per line, by line length (newline included):

| line bytes | lines | log file bytes | per line | framing per line |
| --- | --- | --- | --- | --- |
${framing_rows}
250,000 lines of 1000 bytes leave these files (the engine starts a new one once the current one
holds at least 10^8 bytes, and keeps the newest 11): $rot_files.
EOF
echo "wrote $report" >&2
