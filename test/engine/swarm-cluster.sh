#!/usr/bin/env bash
# A Swarm of three Docker engines on this machine, for the cluster test: each engine runs in a
# network namespace of its own (a "node" with its own address, iptables and hostname), the
# three joined by a bridge; the program's images are loaded from the main engine into each
# (there is no registry here). Node 1 is the manager and the data and edge node; node 2 is an
# edge node; node 3 is a plain worker.
#   up            create the nodes, start the engines, form the Swarm, load the images (idempotent)
#   down          stop the engines and remove the nodes and their data
#   stop-node N   stop node N's engine (as a host going down: its containers stop with it)
#   test          up, the cluster test (jest, DOCKER_HOST at node 1), down; exits with jest's status
# Needs root, iproute2, nsenter/unshare (util-linux) and dockerd (Debian's docker.io).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

nodes=(1 2 3)
bridge=cbddsw0
subnet_prefix=10.77.0
run_dir=/run/clinicalbdd-swarm
data_dir=/var/lib/clinicalbdd-swarm
log_dir=${SWARM_CLUSTER_LOG_DIR:-/tmp/clinicalbdd-swarm}

say() { printf 'swarm-cluster: %s\n' "$*"; }
die() { printf 'swarm-cluster: ERROR: %s\n' "$*" >&2; exit 1; }

netns() { printf 'cbddsw-n%s' "$1"; }
address() { printf '%s.1%s' "$subnet_prefix" "$1"; }
socket() { printf '%s/n%s.sock' "$run_dir" "$1"; }
node_docker() { local n=$1; shift; docker -H "unix://$(socket "$n")" "$@"; }
engine_answers() { node_docker "$1" info >/dev/null 2>&1; }

# The images the program runs (Pulumi.yaml's pinned defaults), the app's local build and the
# bases the program's own builds start FROM (the backup image is built on node 1).
images() {
    awk '/^  [A-Za-z]+Image:/ { key = $1 } key != "" && /^    default:/ { gsub(/"/, "", $2); if ($2 != "") print $2; key = "" }' "$root/Pulumi.yaml"
    echo clinical-bdd-creator-app:local
    awk 'toupper($1) == "FROM" { print $2; exit }' "$root/backup/Dockerfile"
}

create_node() {
    local n=$1 ns host_if
    ns=$(netns "$n")
    host_if="$ns"
    ip netns list | grep -qw "$ns" || ip netns add "$ns"
    if ! ip link show "$host_if" >/dev/null 2>&1; then
        ip link add "$host_if" type veth peer name eth0 netns "$ns"
        ip link set "$host_if" master "$bridge" up
        ip netns exec "$ns" ip addr add "$(address "$n")/24" dev eth0
        ip netns exec "$ns" ip link set eth0 up
        ip netns exec "$ns" ip link set lo up
        ip netns exec "$ns" ip route add default via "$subnet_prefix.1"
    fi
}

start_engine() {
    local n=$1
    engine_answers "$n" && return 0
    mkdir -p "$run_dir" "$data_dir/n$n" "$log_dir"
    # nsenter --net only: `ip netns exec` would remount /sys and hide the cgroup mounts dockerd needs.
    nohup nsenter --net="/run/netns/$(netns "$n")" unshare --uts sh -c "hostname node$n && exec dockerd \
        --data-root '$data_dir/n$n' --exec-root '$run_dir/n$n' --pidfile '$run_dir/n$n.pid' \
        -H 'unix://$(socket "$n")' --cgroup-parent '/clinicalbdd-swarm-n$n'" \
        >>"$log_dir/node$n.log" 2>&1 </dev/null &
    for _ in $(seq 60); do engine_answers "$n" && return 0; sleep 1; done
    tail -n 20 "$log_dir/node$n.log" >&2
    die "node $n's engine did not answer within 60 s (log: $log_dir/node$n.log)"
}

form_swarm() {
    if [ "$(node_docker 1 info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
        # Overlay subnets from a pool of their own, away from the nodes' 10.77.0.0/24.
        node_docker 1 swarm init --advertise-addr "$(address 1)" --default-addr-pool 10.78.0.0/16 >/dev/null
    fi
    local token n
    token=$(node_docker 1 swarm join-token -q worker)
    for n in 2 3; do
        [ "$(node_docker "$n" info --format '{{.Swarm.LocalNodeState}}')" = active ] && continue
        node_docker "$n" swarm join --advertise-addr "$(address "$n")" --token "$token" "$(address 1):2377" >/dev/null
    done
    for _ in $(seq 60); do
        [ "$(node_docker 1 node ls --format '{{.Status}}' | grep -c Ready)" = 3 ] && break
        sleep 1
    done
    node_docker 1 node update --label-add clinicalbdd.data=true --label-add clinicalbdd.edge=true node1 >/dev/null
    node_docker 1 node update --label-add clinicalbdd.edge=true node2 >/dev/null
    node_docker 1 node ls
}

load_images() {
    local list archive n
    mapfile -t list < <(images)
    archive="$log_dir/images.tar"
    say "loading ${#list[@]} images from the main engine into every node (no registry here)"
    docker save -o "$archive" "${list[@]}"
    for n in "${nodes[@]}"; do node_docker "$n" load -q -i "$archive" >/dev/null & done
    wait
    rm -f "$archive"
}

up() {
    [ "$(id -u)" = 0 ] || die "needs root (network namespaces, dockerd)"
    docker info >/dev/null 2>&1 || die "the main engine does not answer: scripts/docker-engine.sh first"
    local started=$SECONDS n
    ip link show "$bridge" >/dev/null 2>&1 || {
        ip link add "$bridge" type bridge
        ip addr add "$subnet_prefix.1/24" dev "$bridge"
        ip link set "$bridge" up
    }
    # The main engine's FORWARD policy is DROP, and bridged frames pass through iptables; the
    # nodes reach out (node1 builds the backup image, as the manager the provider talks to) by NAT.
    for rule in "-i $bridge -o $bridge -j ACCEPT" "-i $bridge ! -o $bridge -j ACCEPT" "-o $bridge -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"; do
        # shellcheck disable=SC2086 # a rule is words
        iptables -C FORWARD $rule 2>/dev/null || iptables -I FORWARD 1 $rule
    done
    iptables -t nat -C POSTROUTING -s "$subnet_prefix.0/24" ! -o "$bridge" -j MASQUERADE 2>/dev/null \
        || iptables -t nat -A POSTROUTING -s "$subnet_prefix.0/24" ! -o "$bridge" -j MASQUERADE
    for n in "${nodes[@]}"; do create_node "$n"; done
    for n in "${nodes[@]}"; do start_engine "$n" & done
    wait
    form_swarm
    load_images
    say "up in $((SECONDS - started)) s: DOCKER_HOST=unix://$(socket 1) reaches the manager; nodes at $(address 1), $(address 2), $(address 3)"
}

stop_node() {
    local n=$1 pid
    pid=$(cat "$run_dir/n$n.pid" 2>/dev/null) || die "node $n's engine is not running"
    kill -TERM "$pid"
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || { say "node $n's engine stopped"; return 0; }; sleep 1; done
    die "node $n's engine did not stop within 60 s"
}

down() {
    local n pid
    for n in "${nodes[@]}"; do
        if engine_answers "$n"; then node_docker "$n" swarm leave --force >/dev/null 2>&1 || true; fi
        pid=$(cat "$run_dir/n$n.pid" 2>/dev/null || true)
        if [ -n "$pid" ]; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
        fi
    done
    for n in "${nodes[@]}"; do
        ip netns delete "$(netns "$n")" 2>/dev/null || true
        ip link delete "$(netns "$n")" 2>/dev/null || true
        # Container mounts may linger a moment after the engine stopped.
        find "$data_dir/n$n" -maxdepth 4 -type d -path '*/overlay2/*/merged' -exec umount -l {} \; 2>/dev/null || true
        rm -rf "${data_dir:?}/n$n" "${run_dir:?}/n$n" 2>/dev/null || true
    done
    ip link delete "$bridge" 2>/dev/null || true
    for rule in "-i $bridge -o $bridge -j ACCEPT" "-i $bridge ! -o $bridge -j ACCEPT" "-o $bridge -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"; do
        # shellcheck disable=SC2086 # a rule is words
        iptables -D FORWARD $rule 2>/dev/null || true
    done
    iptables -t nat -D POSTROUTING -s "$subnet_prefix.0/24" ! -o "$bridge" -j MASQUERADE 2>/dev/null || true
    say "down"
}

run_test() {
    local status=0
    up || { down; return 1; }
    DOCKER_HOST="unix://$(socket 1)" SWARM_CLUSTER_SCRIPT="$0" npx jest --ci --testPathIgnorePatterns /node_modules/ \
        --runTestsByPath test/swarmClusterEngine.test.ts "$@" || status=$?
    down
    return "$status"
}

case ${1:-} in
    up) up ;;
    down) down ;;
    stop-node) [ -n "${2:-}" ] || die "stop-node needs a node number (2 or 3)"; stop_node "$2" ;;
    test) shift; run_test "$@" ;;
    *) die "usage: $0 up|down|stop-node N|test [jest options]" ;;
esac
