#!/usr/bin/env bash
# The operator's verbs not yet moved to the TypeScript CLI (cli/main.ts, which runs this
# file for them with the same command line, and prints --help): backup and restore;
# deploy is scripts/deploy.sh.
# Containers (one host) and services (Swarm) are found by their labels
# clinicalbdd.stack=<stack> and clinicalbdd.service=<service>. The stack is on Swarm when
# this engine is a Swarm manager with services of the stack (no Pulumi CLI needed to tell).
# The verbs live beside this file: ops-restore.sh (backup, restore) and ops-swarm.sh (the
# Swarm halves).
# Global options, anywhere on the line:
#   --stack NAME   the Pulumi stack (default prod, or OPS_STACK)
#   --dry-run      print the commands that would change something instead of running them
#                  (OPS_DRY_RUN=1 does the same); look-ups still run
#   --yes          accepted (no verb left here asks a question)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR/..
source scripts/platform-env.sh

# edge: the Swarm target's TCP proxy holding 80/443 in front of nginx (none on one host).
services=(app nginx prometheus alertmanager grafana node-exporter cadvisor nginx-exporter blackbox-exporter backup edge)
stack=${OPS_STACK:-prod}
dry_run=${OPS_DRY_RUN:-0}
health_wait_seconds=${OPS_HEALTH_WAIT_SECONDS:-180}

say() { printf '%s: %s\n' "$verb" "$*"; }
fail() { printf '%s: %s\n' "${verb:-ops}" "$*" >&2; exit 1; }
usage_error() { printf '%s: %s\n  (npm run ops -- --help lists the verbs)\n' "${verb:-ops}" "$1" >&2; exit 2; }

# A command that changes something: shown, then run (or only shown with --dry-run).
run() {
    if [ "$dry_run" = 1 ]; then
        printf 'would run: %s\n' "$*"
        return 0
    fi
    printf '+ %s\n' "$*"
    "$@"
}

need_docker() { need_docker_engine; }

check_service() {
    local s
    for s in "${services[@]}"; do [ "$s" = "$1" ] && return 0; done
    usage_error "unknown service '$1'; one of: ${services[*]}"
}

# Where the stack runs, from the engine alone (no Pulumi CLI): swarm when this engine is a
# Swarm manager holding services labelled with the stack, else docker (one host). Cached.
platform=""
on_swarm() {
    if [ -z "$platform" ]; then
        platform=docker
        case $(docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}' 2>/dev/null || true) in
            "active true")
                [ -z "$(docker service ls --quiet --filter "label=clinicalbdd.stack=$stack" 2>/dev/null)" ] || platform=swarm ;;
            "active false")
                [ -n "$(containers)" ] ||
                    fail "this engine is a Swarm worker and runs no container of stack $stack: run the verbs against a manager of the stack's cluster (DOCKER_HOST)" ;;
        esac
    fi
    [ "$platform" = swarm ]
}

# One host has no edge service: nginx holds 80/443 itself.
no_edge_on_one_host() {
    [ "${1:-}" != edge ] || usage_error "edge is the Swarm target's TCP proxy in front of nginx; stack $stack runs on one Docker host, where nginx holds 80/443 itself: use nginx"
}

# The stack's containers, one "service name" per line, sorted; optionally of one service.
containers() {
    local filter=(--filter "label=clinicalbdd.stack=$stack")
    [ -z "${1:-}" ] || filter+=(--filter "label=clinicalbdd.service=$1")
    docker ps -a "${filter[@]}" --format '{{.Label "clinicalbdd.service"}} {{.Names}}' | sort
}

container_names() {
    local found
    found=$(containers "${1:-}")
    [ -n "$found" ] || fail "no ${1:-platform} container of stack $stack on this Docker host (deployed? npm run status)"
    printf '%s\n' "$found" | cut -d' ' -f2
}

# Waits until a container's healthcheck says healthy; returns 1 (with a message) when it is
# unhealthy, exited, or still starting after health_wait_seconds. Callers add `|| fail`.
wait_healthy() {
    local name=$1 started=$SECONDS state
    [ "$dry_run" = 1 ] && { printf 'would wait for %s to be healthy\n' "$name"; return 0; }
    while :; do
        state=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$name") || state=missing
        case $state in
            healthy | running) say "$name is $state after $((SECONDS - started)) s"; return 0 ;;
            unhealthy | exited | dead | missing) say "$name is $state; see npm run logs" >&2; return 1 ;;
        esac
        if [ $((SECONDS - started)) -ge "$health_wait_seconds" ]; then
            say "$name is still $state after ${health_wait_seconds} s; see npm run logs" >&2
            return 1
        fi
        printf '%s: waiting for %s (%s, %d s)\n' "$verb" "$name" "$state" "$((SECONDS - started))"
        sleep 2
    done
}

# Containers (one host) or services (Swarm) a verb stopped: the EXIT trap starts each container
# that is not running, or scales each service back, whatever ended the verb (an error,
# Ctrl-C, SIGTERM, a killed step), waits for it, and prints what was done, what was not,
# and how to retry. Only SIGKILL of ops.sh itself escapes it; `npm run status` then shows
# the container Exited (`docker start` fixes it) or the service at 0 tasks (`docker service scale`).
touched=()
scaled=()          # Swarm: "service=replicas" to scale back to, in that order
no_health_wait=""  # a touched container or scaled service only checked to be running (the backup job's healthcheck passes after its first run)
oneshot=""       # the one-shot container a step runs in; removed first on a failure
done_note=""     # what the verb completed, for the summary
todo_note=""     # what it has not (yet) done, for the summary
retry_note=""    # the command that does the rest
start_touched() {
    local name state failed=0
    for name in "${touched[@]}"; do
        state=$(docker inspect -f '{{.State.Status}}' "$name" 2>/dev/null)
        if [ "$state" != running ]; then
            say "starting $name (it is $state)"
            if ! docker start "$name" >/dev/null; then
                say "could not start $name: run docker start $name" >&2
                failed=1
                continue
            fi
        fi
        if [ "$name" = "$no_health_wait" ]; then
            if [ "$(docker inspect -f '{{.State.Status}}' "$name" 2>/dev/null)" = running ]; then say "$name is running"
            else say "$name is not running: see npm run logs" >&2; failed=1; fi
        else
            wait_healthy "$name" || failed=1
        fi
    done
    return "$failed"
}
guard_exit() {
    local rc=$? failed=0
    trap - EXIT INT TERM HUP
    set +e
    # A step's container still there (only if stopping it in on_signal failed) goes first.
    if [ -n "$oneshot" ] && [ "$dry_run" = 0 ]; then docker rm -f "$oneshot" >/dev/null 2>&1; fi
    if [ "$dry_run" = 0 ]; then
        [ ${#touched[@]} -eq 0 ] || start_touched || failed=1
        [ ${#scaled[@]} -eq 0 ] || swarm_scale_back || failed=1
    fi
    if [ "$rc" -eq 0 ] && [ "$failed" -eq 0 ] && [ -n "$done_note" ]; then say "$done_note"; fi
    if [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ]; then
        {
            [ -z "$done_note" ] || say "done: $done_note"
            [ -z "$todo_note" ] || say "NOT done: $todo_note"
            if [ ${#touched[@]} -gt 0 ]; then
                if [ "$failed" -eq 0 ]; then say "every container this verb stopped is running again: ${touched[*]}"
                else say "some container is not healthy (above): check npm run status"; fi
            fi
            if [ ${#scaled[@]} -gt 0 ]; then
                if [ "$failed" -eq 0 ]; then say "every service this verb scaled to 0 runs again: ${scaled[*]%=*}"
                else say "some service does not run again (above): check npm run status"; fi
            fi
            [ -z "$todo_note" ] || [ -z "$retry_note" ] || say "retry with: $retry_note"
        } >&2
        [ "$rc" -ne 0 ] || rc=1
    fi
    exit "$rc"
}
# A signal while a step runs in its own container (the restore): that container is stopped
# (SIGTERM: restore.sh puts the old data back unless it has finished), its outcome noted,
# then the EXIT trap starts what the verb stopped.
step_pid=""
step_done() { :; }
on_signal() {
    trap '' INT TERM HUP
    say "stopped by a signal" >&2
    if [ -n "$step_pid" ]; then
        local rc=0
        say "stopping the step in $oneshot first (it puts the old data back unless it has finished)" >&2
        docker stop -t 60 "$oneshot" >/dev/null 2>&1
        wait "$step_pid" || rc=$?
        step_pid=""
        oneshot=""
        step_done "$rc"
    fi
    exit "$1"
}
guard() {
    trap guard_exit EXIT
    trap 'on_signal 130' INT
    trap 'on_signal 143' TERM
    trap 'on_signal 129' HUP
}

# shellcheck source=scripts/ops-restore.sh
source scripts/ops-restore.sh
# shellcheck source=scripts/ops-swarm.sh
source scripts/ops-swarm.sh

# Global options, anywhere on the line; the rest belongs to the verb.
verb=""
args=()
while [ $# -gt 0 ]; do
    case $1 in
        --dry-run) dry_run=1; shift ;;
        --yes | -y) shift ;;  # no verb left here asks a question
        --stack) [ $# -ge 2 ] || usage_error "--stack needs a name"; stack=$2; shift 2 ;;
        --stack=*) stack=${1#--stack=}; shift ;;
        *) if [ -z "$verb" ]; then verb=$1; else args+=("$1"); fi; shift ;;
    esac
done
[ -n "$verb" ] || usage_error "which verb?"
case $verb in
    backup) verb_backup "${args[@]}" ;;
    restore) verb_restore "${args[@]}" ;;
    deploy) exec bash scripts/deploy.sh "${args[@]}" ;;
    *) usage_error "unknown verb '$verb'" ;;
esac
