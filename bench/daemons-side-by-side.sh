#!/usr/bin/env bash
# Runs the same daemon benchmark against two invoker binaries, one after the
# other, each a fresh daemon with its own data directory and invoker name on
# a free loopback port, stopped by pid at the end.
#
#   bench/daemons-side-by-side.sh A_BINARY B_BINARY USER_MEMORY [bench flags...]
#
# For example, the revision before a change against this tree:
#   git worktree add /tmp/base <rev> && (cd /tmp/base && CGO_ENABLED=0 go build -o /tmp/invoker-a ./cmd/invoker)
#   CGO_ENABLED=0 go build -o /tmp/invoker-b ./cmd/invoker
#   bench/daemons-side-by-side.sh /tmp/invoker-a /tmp/invoker-b 4g \
#     --workload constant --functions 4 --rate 100 --duration 20s --exec 10ms --memory 128
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,12p' "$0" >&2
  exit 2
fi
a=$1 b=$2 mem=$3
shift 3
cd "$(dirname "$0")/.."
benchbin=$(mktemp -d)/bench
go build -o "$benchbin" ./bench

pid=
dir=
stop() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    wait "$pid" || true
  fi
  pid=
}
trap stop EXIT

for side in a b; do
  bin=$a
  [ "$side" = b ] && bin=$b
  dir=$(mktemp -d)
  name="bench-side-$side-$RANDOM"
  "$bin" run --listen 127.0.0.1:0 --data-dir "$dir" --invoker-name "$name" --user-memory "$mem" \
    --log-format json --log-level info >"$dir/log" 2>&1 &
  pid=$!
  addr=
  for _ in $(seq 1 180); do
    addr=$(grep '"message":"ready"' "$dir/log" | grep -o '"addr":"[^"]*"' | head -1 | cut -d'"' -f4 || true)
    [ -n "$addr" ] && break
    kill -0 "$pid" 2>/dev/null || { echo "daemon $side exited:" >&2; tail -20 "$dir/log" >&2; exit 1; }
    sleep 1
  done
  [ -n "$addr" ] || { echo "daemon $side not ready after 3 minutes" >&2; exit 1; }
  echo "=== side $side: $bin, user-memory $mem, $addr"
  "$benchbin" --target daemon --daemon-url "http://$addr" --keys-file "$dir/keys" "$@"
  stop
  left=$(docker ps -aq --filter "name=^/?${name}_" | wc -l)
  echo "daemon $side stopped; its containers left in the engine: $left"
done
