#!/usr/bin/env bash
# The wallet's high-availability PostgreSQL, on one machine: etcd, three Patroni-managed PostgreSQL 15
# nodes in synchronous mode, and HAProxy with a primary port and a replica port (and a frontend for
# the API instances). For development, tests and failover drills; the configuration files next to
# this script (etcd.env.in, patroni.yml.in, haproxy.cfg.in) are the commented production example.
# See docs/scaling.md.
#
#   deploy/cluster/cluster.sh up                  install what is missing (apt-get), start everything
#   deploy/cluster/cluster.sh install             only install what is missing (CI does this first)
#   deploy/cluster/cluster.sh status              patronictl list and HAProxy's view
#   deploy/cluster/cluster.sh psql primary|replica [psql args]
#                                                 psql through HAProxy's primary or replica port
#   deploy/cluster/cluster.sh measure-switchover  a planned switchover under a 50 ms write loop
#   deploy/cluster/cluster.sh leader              the name of the node that is primary now
#   deploy/cluster/cluster.sh switchover          a planned switchover to the synchronous standby
#   deploy/cluster/cluster.sh kill-postmaster     kill -9 the primary's PostgreSQL (Patroni survives)
#   deploy/cluster/cluster.sh kill-node           kill -9 the primary's Patroni and PostgreSQL at once
#   deploy/cluster/cluster.sh start-node NODE     start a stopped node's Patroni again (it rejoins)
#   deploy/cluster/cluster.sh down                stop everything it started, delete $CLUSTER_DIR
#   deploy/cluster/cluster.sh render DIR          only write the configuration files into DIR
#
# `up`, `down` and friends run as root (PostgreSQL itself runs as the `postgres` user through
# runuser). Nothing is started through systemd and nothing listens beyond 127.0.0.1. Every process
# is started in the background with its PID recorded in $CLUSTER_DIR and stopped by that PID.
#
# Environment (defaults in brackets):
#   CLUSTER_DIR [/tmp/wallet-cluster]   every file of the cluster; `down` deletes it
#   ETCD_CLIENT_PORT [22379] ETCD_PEER_PORT [22380]
#   PG_PORT_BASE [25440]                nodes pg1..pg3 listen on BASE+1..BASE+3
#   REST_PORT_BASE [28440]              their Patroni REST APIs on BASE+1..BASE+3
#   HAPROXY_PRIMARY_PORT [25432] HAPROXY_REPLICA_PORT [25433] HAPROXY_STATS_PORT [25400]
#   HAPROXY_API_PORT [25480]            the API frontend
#   WALLET_API_SERVERS ["127.0.0.1:3000"]  space-separated host:port of the API instances
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CLUSTER_DIR="${CLUSTER_DIR:-/tmp/wallet-cluster}"
ETCD_CLIENT_PORT="${ETCD_CLIENT_PORT:-22379}"
ETCD_PEER_PORT="${ETCD_PEER_PORT:-22380}"
PG_PORT_BASE="${PG_PORT_BASE:-25440}"
REST_PORT_BASE="${REST_PORT_BASE:-28440}"
HAPROXY_PRIMARY_PORT="${HAPROXY_PRIMARY_PORT:-25432}"
HAPROXY_REPLICA_PORT="${HAPROXY_REPLICA_PORT:-25433}"
HAPROXY_STATS_PORT="${HAPROXY_STATS_PORT:-25400}"
HAPROXY_API_PORT="${HAPROXY_API_PORT:-25480}"
WALLET_API_SERVERS="${WALLET_API_SERVERS:-127.0.0.1:3000}"
NODES=(pg1 pg2 pg3)
PG_BIN=/usr/lib/postgresql/15/bin
MARKER=".wallet-cluster"   # `down` deletes only a directory that carries this file

log() { printf '%s cluster: %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
now_ms() { date +%s%3N; }
pg_port() { echo $((PG_PORT_BASE + $1)); }
rest_port() { echo $((REST_PORT_BASE + $1)); }

# ----------------------------------------------------------------------------------------- install
ensure_packages() {
  local missing=()
  command -v etcd >/dev/null || missing+=(etcd-server)
  command -v patroni >/dev/null || missing+=(patroni)
  command -v haproxy >/dev/null || missing+=(haproxy)
  [ -x "$PG_BIN/postgres" ] || missing+=(postgresql-15)
  command -v psql >/dev/null || missing+=(postgresql-client-15)
  command -v curl >/dev/null || missing+=(curl)
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  # Debian starts a packaged daemon on install (etcd on 2379, a "main" PostgreSQL cluster on 5432).
  # This script starts its own, on other ports, so keep the packaged ones stopped: a policy-rc.d
  # that refuses every start, only for the duration of the install and only if there is none.
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 0755 "$policy" && made_policy=1
  fi
  local rc=0
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } || rc=$?
  [ "$made_policy" = 1 ] && rm -f "$policy"
  [ "$rc" = 0 ] || die "apt-get install ${missing[*]} failed"
  id postgres >/dev/null 2>&1 || die "no postgres user after installing PostgreSQL"
}

# ----------------------------------------------------------------------------------------- render
subst() {  # subst FILE NAME=VALUE...: prints FILE with every @NAME@ replaced
  local text
  text="$(cat "$1")"
  shift
  local pair
  for pair in "$@"; do
    text="${text//@${pair%%=*}@/${pair#*=}}"
  done
  printf '%s\n' "$text"
}

secret() { tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24 || true; }

# render DIR: writes DIR/etcd.env, DIR/haproxy.cfg, DIR/pgN/patroni.yml (passwords from DIR/secrets,
# generated on first use).
render() {
  local dir="$1"
  mkdir -p "$dir"
  if [ ! -f "$dir/secrets" ]; then
    (umask 077 && printf 'SUPERUSER_PASSWORD=%s\nREPLICATION_PASSWORD=%s\nREWIND_PASSWORD=%s\n' \
      "$(secret)" "$(secret)" "$(secret)" >"$dir/secrets")
  fi
  # shellcheck disable=SC1091
  . "$dir/secrets"
  subst "$HERE/etcd.env.in" CLUSTER_DIR="$dir" ETCD_CLIENT_PORT="$ETCD_CLIENT_PORT" \
    ETCD_PEER_PORT="$ETCD_PEER_PORT" >"$dir/etcd.env"

  local primary="" replica="" api="" i=0 node
  for node in "${NODES[@]}"; do
    i=$((i + 1))
    primary+="    server $node 127.0.0.1:$(pg_port $i) check port $(rest_port $i)"$'\n'
    replica+="    server $node 127.0.0.1:$(pg_port $i) check port $(rest_port $i)"$'\n'
    mkdir -p "$dir/$node"
    (umask 077 && subst "$HERE/patroni.yml.in" NAME="$node" REST_PORT="$(rest_port $i)" \
      ETCD_CLIENT_PORT="$ETCD_CLIENT_PORT" PG_PORT="$(pg_port $i)" DATA_DIR="$dir/$node/data" \
      SOCKET_DIR="$dir/$node" NODE_DIR="$dir/$node" SUPERUSER_PASSWORD="$SUPERUSER_PASSWORD" \
      REPLICATION_PASSWORD="$REPLICATION_PASSWORD" REWIND_PASSWORD="$REWIND_PASSWORD" \
      >"$dir/$node/patroni.yml")
  done
  i=0
  local server
  for server in $WALLET_API_SERVERS; do
    i=$((i + 1))
    api+="    server api$i $server check"$'\n'
  done
  subst "$HERE/haproxy.cfg.in" CLUSTER_DIR="$dir" HAPROXY_STATS_PORT="$HAPROXY_STATS_PORT" \
    HAPROXY_PRIMARY_PORT="$HAPROXY_PRIMARY_PORT" HAPROXY_REPLICA_PORT="$HAPROXY_REPLICA_PORT" \
    HAPROXY_API_PORT="$HAPROXY_API_PORT" PRIMARY_SERVERS="${primary%$'\n'}" \
    REPLICA_SERVERS="${replica%$'\n'}" API_SERVERS="${api%$'\n'}" >"$dir/haproxy.cfg"
}

# ----------------------------------------------------------------------------------------- processes
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds="$1" what="$2" deadline
  shift 2
  deadline=$(($(now_ms) + seconds * 1000))
  until "$@" >/dev/null 2>&1; do
    [ "$(now_ms)" -lt "$deadline" ] || die "timed out after ${seconds}s waiting for $what"
    sleep 0.1
  done
}

rest_get() { curl -fsS --max-time 1 "http://127.0.0.1:$1$2"; }

has_sync_standby() { rest_get "$(rest_port 1)" /cluster | grep -q '"role": "sync_standby"'; }

as_postgres() { runuser -u postgres -- "$@"; }

patronictl_() { as_postgres patronictl -c "$CLUSTER_DIR/pg1/patroni.yml" "$@"; }

start_patroni() {  # start_patroni INDEX
  local node="${NODES[$(($1 - 1))]}"
  # The shell records its own PID and then becomes Patroni (exec), so the PID file holds Patroni's.
  # setsid and no inherited descriptors: it outlives this script and holds none of its pipes.
  setsid runuser -u postgres -- sh -c 'echo $$ >"$1/patroni.pid"; exec patroni "$1/patroni.yml" >>"$1/patroni.out" 2>&1' \
    sh "$CLUSTER_DIR/$node" </dev/null >/dev/null 2>&1 &
}

# stop PIDFILE NAME SECONDS: SIGTERM, then SIGKILL after SECONDS.
stop() {
  local pidfile="$1" name="$2" seconds="$3" pid deadline
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$(($(now_ms) + seconds * 1000))
    while kill -0 "$pid" 2>/dev/null && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name did not stop in ${seconds}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
}

# ----------------------------------------------------------------------------------------- commands
cmd_up() {
  [ "$(id -u)" = 0 ] || die "run as root (PostgreSQL runs as postgres through runuser)"
  local started
  started=$(now_ms)
  if [ -e "$CLUSTER_DIR" ]; then
    die "$CLUSTER_DIR exists: the cluster is up, or a previous run left it (run: $0 down)"
  fi
  ensure_packages
  local installed
  installed=$(now_ms)
  mkdir -p "$CLUSTER_DIR"
  chmod 0755 "$CLUSTER_DIR"
  touch "$CLUSTER_DIR/$MARKER"
  trap 'log "up failed; logs are in $CLUSTER_DIR (*/patroni.out, etcd.log, haproxy.log); $0 down removes it all"' ERR
  render "$CLUSTER_DIR"
  chmod 0600 "$CLUSTER_DIR/secrets"
  local node
  for node in "${NODES[@]}"; do
    chown -R postgres:postgres "$CLUSTER_DIR/$node"
    chmod 0700 "$CLUSTER_DIR/$node"
  done

  log "starting etcd on 127.0.0.1:$ETCD_CLIENT_PORT"
  (set -a && . "$CLUSTER_DIR/etcd.env" && exec setsid etcd) >"$CLUSTER_DIR/etcd.log" 2>&1 </dev/null &
  echo $! >"$CLUSTER_DIR/etcd.pid"
  wait_for 20 "etcd" curl -fsS --max-time 1 "http://127.0.0.1:$ETCD_CLIENT_PORT/health"

  # The first node initialises the cluster (initdb, bootstrap.dcs into etcd); the other two then
  # clone it with pg_basebackup. Starting them together would work too (they race for the
  # initialise key), but one at a time makes the logs easier to read.
  log "starting ${NODES[0]} (initdb)"
  start_patroni 1
  wait_for 60 "${NODES[0]} to become primary" rest_get "$(rest_port 1)" /primary
  log "starting ${NODES[1]} and ${NODES[2]} (pg_basebackup from ${NODES[0]})"
  start_patroni 2
  start_patroni 3
  wait_for 60 "${NODES[1]} to replicate" rest_get "$(rest_port 2)" /replica
  wait_for 60 "${NODES[2]} to replicate" rest_get "$(rest_port 3)" /replica
  # Synchronous mode: wait until Patroni has named a synchronous standby.
  wait_for 30 "a synchronous standby" has_sync_standby

  log "starting haproxy: primary 127.0.0.1:$HAPROXY_PRIMARY_PORT, replicas 127.0.0.1:$HAPROXY_REPLICA_PORT"
  haproxy -c -q -f "$CLUSTER_DIR/haproxy.cfg"
  haproxy -D -f "$CLUSTER_DIR/haproxy.cfg" >"$CLUSTER_DIR/haproxy.log" 2>&1 </dev/null
  wait_for 10 "haproxy" alive "$CLUSTER_DIR/haproxy.pid"
  wait_for 10 "the primary port" run_psql primary -Atc 'select 1'
  wait_for 10 "the replica port" run_psql replica -Atc 'select pg_is_in_recovery()'
  trap - ERR
  patronictl_ list
  local done_ms
  done_ms=$(now_ms)
  log "up in $(((done_ms - started) / 1000)).$(((done_ms - started) % 1000 / 100)) s ($(((done_ms - installed) / 1000)).$(((done_ms - installed) % 1000 / 100)) s after the packages were there)"
  cat >&2 <<EOF
  DATABASE_URL=$(url primary)
  DATABASE_READ_URL=$(url replica)
  stats: http://127.0.0.1:$HAPROXY_STATS_PORT/
EOF
}

url() {
  # shellcheck disable=SC1091
  . "$CLUSTER_DIR/secrets"
  local port=$HAPROXY_PRIMARY_PORT
  [ "$1" = replica ] && port=$HAPROXY_REPLICA_PORT
  echo "postgres://postgres:$SUPERUSER_PASSWORD@127.0.0.1:$port/postgres"
}

run_psql() {  # run_psql primary|replica [psql args]
  local which="$1"
  shift
  psql "$(url "$which")?connect_timeout=2" -X -v ON_ERROR_STOP=1 "$@"
}

cmd_status() {
  [ -f "$CLUSTER_DIR/$MARKER" ] || { echo "down ($CLUSTER_DIR does not exist)"; return 0; }
  local name
  for name in etcd haproxy; do
    if alive "$CLUSTER_DIR/$name.pid"; then echo "$name: running (pid $(cat "$CLUSTER_DIR/$name.pid"))"; else echo "$name: not running"; fi
  done
  local node
  for node in "${NODES[@]}"; do
    if alive "$CLUSTER_DIR/$node/patroni.pid"; then echo "patroni $node: running (pid $(cat "$CLUSTER_DIR/$node/patroni.pid"))"; else echo "patroni $node: not running"; fi
  done
  patronictl_ list || true
  echo "haproxy (proxy,server,status):"
  curl -fsS --max-time 1 "http://127.0.0.1:$HAPROXY_STATS_PORT/;csv" 2>/dev/null |
    awk -F, '$1 ~ /^postgres_/ && $2 != "FRONTEND" && $2 != "BACKEND" {print "  " $1 "," $2 "," $18}' || true
}

cmd_down() {
  [ "$(id -u)" = 0 ] || die "run as root"
  if [ ! -e "$CLUSTER_DIR" ]; then log "nothing to do: $CLUSTER_DIR does not exist"; return 0; fi
  [ -f "$CLUSTER_DIR/$MARKER" ] || die "$CLUSTER_DIR was not made by this script (no $MARKER): not touching it"
  stop "$CLUSTER_DIR/haproxy.pid" haproxy 10
  # Replicas first, then the leader, so that stopping does not set off failovers. Patroni stops its
  # PostgreSQL (fast shutdown) before it exits.
  local leader node
  leader="$(leader)" || leader=""
  for node in "${NODES[@]}"; do
    [ "$node" = "$leader" ] || stop "$CLUSTER_DIR/$node/patroni.pid" "patroni $node" 60
  done
  [ -z "$leader" ] || stop "$CLUSTER_DIR/$leader/patroni.pid" "patroni $leader" 60
  # A PostgreSQL left behind by a Patroni that had to be killed: stop it by its postmaster.pid.
  for node in "${NODES[@]}"; do
    local pmpid="$CLUSTER_DIR/$node/data/postmaster.pid"
    if [ -f "$pmpid" ]; then
      local pid
      pid="$(head -1 "$pmpid")"
      if kill -0 "$pid" 2>/dev/null; then
        log "stopping the PostgreSQL of $node (pid $pid)"
        kill -INT "$pid" 2>/dev/null || true
        sleep 2
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
  done
  stop "$CLUSTER_DIR/etcd.pid" etcd 10
  rm -rf "$CLUSTER_DIR"
  log "down: $CLUSTER_DIR removed"
}

# A planned switchover while a loop writes through the primary port every 50 ms, each write on a
# fresh connection (as a pool reconnecting would). Reports the longest run of failed writes.
cmd_measure_switchover() {
  [ -f "$CLUSTER_DIR/$MARKER" ] || die "the cluster is not up"
  run_psql primary -qc 'create table if not exists switchover_probe (id bigserial primary key, at timestamptz default now())'
  local before
  before="$(run_psql primary -Atc 'select inet_server_port()')"
  local out="$CLUSTER_DIR/switchover-probe.log"
  : >"$out"
  (
    while [ ! -f "$CLUSTER_DIR/switchover-probe.stop" ]; do
      t=$(now_ms)
      if psql "$(url primary)?connect_timeout=1" -X -qAtc 'insert into switchover_probe default values' >/dev/null 2>&1; then
        echo "$t ok" >>"$out"
      else
        echo "$t fail" >>"$out"
      fi
      sleep 0.05
    done
  ) &
  local loop=$!
  sleep 3
  local t0 t1
  t0=$(now_ms)
  patronictl_ switchover --force >&2
  t1=$(now_ms)
  # Keep writing until the new primary has answered for 3 s.
  sleep 4
  touch "$CLUSTER_DIR/switchover-probe.stop"
  wait "$loop" || true
  rm -f "$CLUSTER_DIR/switchover-probe.stop"
  local after
  after="$(run_psql primary -Atc 'select inet_server_port()')"
  awk -v t0="$t0" -v t1="$t1" -v before="$before" -v after="$after" '
    $2 == "fail" { fails++; if (start == "") start = $1; last_fail = $1 }
    $2 == "ok" { oks++; if (start != "") { gap = $1 - start; if (gap > worst) worst = gap; start = "" } }
    END {
      printf "switchover: patronictl returned after %d ms; primary port %s -> %s\n", t1 - t0, before, after
      printf "writes: %d ok, %d failed; longest outage seen through HAProxy (first failed write to next ok): %d ms\n", oks, fails, worst
    }' "$out"
  [ "$before" != "$after" ] || die "the primary port still reaches the same node"
}

# ----------------------------------------------------------------------------------------- drills
# The failure drills of the failover test (tests/ship/failover.test.ts) and of an operator's rehearsal.

leader() {  # prints the node whose Patroni answers /primary (nothing while there is none)
  local i=0 node
  for node in "${NODES[@]}"; do
    i=$((i + 1))
    if rest_get "$(rest_port $i)" /primary >/dev/null 2>&1; then echo "$node"; return 0; fi
  done
  return 1
}

postmaster_pid() { head -1 "$CLUSTER_DIR/$1/data/postmaster.pid"; }

cmd_switchover() {
  [ -f "$CLUSTER_DIR/$MARKER" ] || die "the cluster is not up"
  wait_for 30 "a synchronous standby" has_sync_standby
  patronictl_ switchover --force >&2
}

cmd_kill_postmaster() {
  [ -f "$CLUSTER_DIR/$MARKER" ] || die "the cluster is not up"
  local node pid
  node="$(leader)" || die "no primary"
  pid="$(postmaster_pid "$node")"
  log "kill -9 the PostgreSQL of $node (postmaster pid $pid)"
  kill -KILL "$pid"
  echo "$node"
}

# The machine is gone: Patroni, the postmaster and every backend die in the same instant (the
# backends too, or they would linger until they notice their postmaster is gone).
cmd_kill_node() {
  [ -f "$CLUSTER_DIR/$MARKER" ] || die "the cluster is not up"
  local node patroni_pid postmaster children
  node="$(leader)" || die "no primary"
  patroni_pid="$(cat "$CLUSTER_DIR/$node/patroni.pid")"
  postmaster="$(postmaster_pid "$node")"
  children="$(pgrep -P "$postmaster" | tr '\n' ' ' || true)"
  log "kill -9 node $node: patroni $patroni_pid, postmaster $postmaster and its children"
  # shellcheck disable=SC2086
  kill -KILL "$patroni_pid" "$postmaster" $children 2>/dev/null || true
  rm -f "$CLUSTER_DIR/$node/patroni.pid"
  echo "$node"
}

cmd_start_node() {
  [ -f "$CLUSTER_DIR/$MARKER" ] || die "the cluster is not up"
  local node="$1" i=0 index=0 each
  for each in "${NODES[@]}"; do
    i=$((i + 1))
    [ "$each" = "$node" ] && index=$i
  done
  [ "$index" -gt 0 ] || die "no node $node"
  alive "$CLUSTER_DIR/$node/patroni.pid" && die "$node is running"
  log "starting $node again"
  start_patroni "$index"
  wait_for 60 "$node to replicate" rest_get "$(rest_port "$index")" /replica
}

case "${1:-}" in
  up) cmd_up ;;
  install) [ "$(id -u)" = 0 ] || die "run as root"; ensure_packages ;;
  down) cmd_down ;;
  status) cmd_status ;;
  psql) shift; run_psql "${1:?primary or replica}" "${@:2}" ;;
  measure-switchover) cmd_measure_switchover ;;
  leader) leader ;;
  switchover) cmd_switchover ;;
  kill-postmaster) cmd_kill_postmaster ;;
  kill-node) cmd_kill_node ;;
  start-node) cmd_start_node "${2:?start-node NODE}" ;;
  render) render "${2:?render DIR}" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
