#!/usr/bin/env bash
# The operator's verbs (npm run <verb> -- <args>): status, logs, restart, stop, scale,
# renew-cert, rotate-grafana-password, backup, restore; deploy is scripts/deploy.sh.
# Containers are found by their labels clinicalbdd.stack=<stack> and clinicalbdd.service=<service>.
# Global options, anywhere on the line:
#   --stack NAME   the Pulumi stack (default prod, or OPS_STACK)
#   --dry-run      print the commands that would change something instead of running them
#                  (OPS_DRY_RUN=1 does the same); look-ups still run
#   --yes          no confirmation questions (passed on to pulumi up/destroy)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR/..
source scripts/platform-env.sh

services=(app nginx prometheus alertmanager grafana node-exporter cadvisor nginx-exporter blackbox-exporter backup)
stack=${OPS_STACK:-prod}
dry_run=${OPS_DRY_RUN:-0}
yes=0
health_wait_seconds=${OPS_HEALTH_WAIT_SECONDS:-180}

say() { printf '%s: %s\n' "$verb" "$*"; }
fail() { printf '%s: %s\n' "${verb:-ops}" "$*" >&2; exit 1; }
usage_error() { printf '%s: %s\n  (npm run ops -- --help lists the verbs)\n' "${verb:-ops}" "$1" >&2; exit 2; }

usage() {
    cat <<'EOF'
usage: npm run <verb> -- [args] [--stack NAME] [--dry-run] [--yes]
  status                          stack outputs, every container's health, the service endpoints
  logs [service] [--since D] [--follow]
                                  container logs (D: 10m, 2h, 2024-01-01T00:00:00; default 1h)
  restart [service]               docker restart, one container at a time, each healthy before the next
  stop [--delete-data]            pulumi destroy; data volumes are kept unless --delete-data
  scale N                         replicas = N (1-20), then pulumi up
  renew-cert                      a new key and certificate now (tlsRotation + 1), then pulumi up
  rotate-grafana-password         a new Grafana admin password (grafanaPasswordRotation + 1), then pulumi up
  backup                          a backup of Grafana and Prometheus now
  restore <archive|latest> [--service grafana|prometheus]
                                  verify an archive's checksum, stop the service, restore, start it
services: app nginx prometheus alertmanager grafana node-exporter cadvisor nginx-exporter blackbox-exporter backup
EOF
}

# A command that changes something: shown, then run (or only shown with --dry-run).
run() {
    if [ "$dry_run" = 1 ]; then
        printf 'would run: %s\n' "$*"
        return 0
    fi
    printf '+ %s\n' "$*"
    "$@"
}

need_pulumi() {
    need_pulumi_cli
    use_platform_backend existing
}

need_docker() { need_docker_engine; }

check_service() {
    local s
    for s in "${services[@]}"; do [ "$s" = "$1" ] && return 0; done
    usage_error "unknown service '$1'; one of: ${services[*]}"
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

# Waits until a container's healthcheck says healthy; fails after health_wait_seconds.
wait_healthy() {
    local name=$1 started=$SECONDS state
    [ "$dry_run" = 1 ] && { printf 'would wait for %s to be healthy\n' "$name"; return 0; }
    while :; do
        state=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$name")
        case $state in
            healthy | running) say "$name is $state after $((SECONDS - started)) s"; return 0 ;;
            unhealthy | exited | dead) fail "$name is $state; see npm run logs" ;;
        esac
        [ $((SECONDS - started)) -lt "$health_wait_seconds" ] || fail "$name is still $state after ${health_wait_seconds} s; see npm run logs"
        printf '%s: waiting for %s (%s, %d s)\n' "$verb" "$name" "$state" "$((SECONDS - started))"
        sleep 3
    done
}

pulumi_up() {
    local args=(up --stack "$stack")
    [ "$yes" = 0 ] || args+=(--yes)
    run pulumi "${args[@]}"
}

# Bumps an integer config key by one and runs pulumi up.
bump_and_up() {
    local key=$1 current
    current=$(pulumi config get "$key" --stack "$stack" 2>/dev/null || echo 0)
    case $current in '' | *[!0-9]*) fail "$key is '$current', not a number; fix it with pulumi config set $key <n>" ;; esac
    say "$key $current -> $((current + 1))"
    run pulumi config set "$key" "$((current + 1))" --stack "$stack"
    pulumi_up
}

verb_status() {
    [ $# -eq 0 ] || usage_error "status takes no arguments"
    need_pulumi
    need_docker
    local problems=0 key value service name state status url code
    printf '\nStack %s outputs\n' "$stack"
    for key in appUrl healthUrl grafanaUrl prometheusUrl alertmanagerUrl replicas appImage certificateExpiresAt backupLocation; do
        value=$(pulumi stack output "$key" --stack "$stack" 2>/dev/null || echo "(none)")
        printf '  %-22s %s\n' "$key" "$value"
    done
    printf '  %-22s %s\n' grafanaAdminPassword "(secret: pulumi stack output grafanaAdminPassword --show-secrets)"

    printf '\nContainers\n  %-18s %-44s %s\n' SERVICE CONTAINER STATUS
    while read -r service name state status; do
        [ -n "$name" ] || continue
        printf '  %-18s %-44s %s\n' "$service" "$name" "$status"
        case "$state $status" in
            running*"(unhealthy)"* | running*"(health: starting)"*) problems=$((problems + 1)) ;;
            running*) ;;
            *) problems=$((problems + 1)) ;;
        esac
    done < <(docker ps -a --filter "label=clinicalbdd.stack=$stack" \
        --format '{{.Label "clinicalbdd.service"}} {{.Names}} {{.State}} {{.Status}}' | sort)

    printf '\nEndpoints\n  %-14s %-46s %s\n' CHECK URL RESULT
    while read -r name url; do
        if code=$(curl -k -s -o /dev/null -w '%{http_code} in %{time_total} s' --max-time 10 "$url"); then :; else code="unreachable (curl exit $?)"; fi
        case $code in 2??" in "*) ;; *) problems=$((problems + 1)) ;; esac
        printf '  %-14s %-46s %s\n' "$name" "$url" "$code"
    done <<EOF
app-health $(pulumi stack output healthUrl --stack "$stack")
prometheus $(pulumi stack output prometheusUrl --stack "$stack")-/healthy
grafana $(pulumi stack output grafanaUrl --stack "$stack")api/health
alertmanager $(pulumi stack output alertmanagerUrl --stack "$stack")-/healthy
EOF
    echo
    [ "$problems" -eq 0 ] || fail "$problems problem(s) above"
    say "everything is up and healthy"
}

verb_logs() {
    local service="" since=1h follow=0 names
    while [ $# -gt 0 ]; do
        case $1 in
            --since) [ $# -ge 2 ] || usage_error "--since needs a value (10m, 2h, 2024-01-01T00:00:00)"; since=$2; shift 2 ;;
            --since=*) since=${1#--since=}; shift ;;
            -f | --follow) follow=1; shift ;;
            -*) usage_error "unknown option $1" ;;
            *) [ -z "$service" ] || usage_error "one service at a time"; check_service "$1"; service=$1; shift ;;
        esac
    done
    need_docker
    names=$(container_names "$service")
    if [ "$follow" = 1 ]; then
        [ "$(printf '%s\n' "$names" | wc -l)" -eq 1 ] || usage_error "--follow needs one container; ${service:-all} has $(printf '%s\n' "$names" | wc -l)"
        exec docker logs --timestamps --since "$since" --follow "$names"
    fi
    local name
    for name in $names; do
        printf '==> %s (since %s) <==\n' "$name" "$since"
        docker logs --timestamps --since "$since" "$name" 2>&1
    done
}

verb_restart() {
    local service=""
    if [ $# -gt 0 ]; then check_service "$1"; service=$1; shift; fi
    [ $# -eq 0 ] || usage_error "restart takes at most one service"
    need_docker
    local names name
    names=$(container_names "$service")
    if [ -z "$service" ] || [ "$service" = nginx ]; then
        say "nginx is the front door: requests fail for the seconds it restarts (config changes need no restart: pulumi up reloads it)"
    fi
    local count total
    count=0
    total=$(printf '%s\n' "$names" | wc -l)
    for name in $names; do
        count=$((count + 1))
        say "[$count/$total] restarting $name"
        run docker restart "$name"
        wait_healthy "$name"
    done
    say "restarted $total container(s)"
}

verb_stop() {
    local delete_data=0
    while [ $# -gt 0 ]; do
        case $1 in
            --delete-data) delete_data=1; shift ;;
            *) usage_error "unknown argument $1" ;;
        esac
    done
    need_pulumi
    if [ "$delete_data" = 1 ]; then
        say "--delete-data: the Prometheus, Grafana and Alertmanager volumes and the backup volume will be DELETED"
        if [ "$yes" = 0 ] && [ "$dry_run" = 0 ]; then
            local answer
            read -r -p "Type the stack name ($stack) to delete its data: " answer
            [ "$answer" = "$stack" ] || fail "not confirmed; nothing was changed"
        fi
        # The volumes keep retainOnDelete from the last `up`: set it off in the state first.
        run pulumi config set retainDataVolumes false --stack "$stack"
        pulumi_up
    else
        say "data volumes are kept (retainDataVolumes); the next npm run deploy reattaches them"
    fi
    local args=(destroy --stack "$stack")
    [ "$yes" = 0 ] || args+=(--yes)
    run pulumi "${args[@]}"
    if [ "$delete_data" = 1 ]; then
        run pulumi config set retainDataVolumes true --stack "$stack"
    fi
}

verb_scale() {
    [ $# -eq 1 ] || usage_error "scale needs the number of replicas"
    case $1 in '' | *[!0-9]*) usage_error "replicas must be a whole number from 1 to 20, got '$1'" ;; esac
    if [ "$1" -lt 1 ] || [ "$1" -gt 20 ]; then usage_error "replicas must be a whole number from 1 to 20, got '$1'"; fi
    need_pulumi
    say "replicas -> $1 (new replicas are added healthy; removed ones stop gracefully)"
    run pulumi config set replicas "$1" --stack "$stack"
    pulumi_up
}

verb_renew_cert() {
    [ $# -eq 0 ] || usage_error "renew-cert takes no arguments"
    need_pulumi
    say "a new key and certificate; nginx reloads them without a restart"
    bump_and_up tlsRotation
    [ "$dry_run" = 1 ] || say "expires: $(pulumi stack output certificateExpiresAt --stack "$stack")"
}

verb_rotate_grafana_password() {
    [ $# -eq 0 ] || usage_error "rotate-grafana-password takes no arguments"
    need_pulumi
    say "a new Grafana admin password, set in the running Grafana"
    bump_and_up grafanaPasswordRotation
    say "read it with: pulumi stack output grafanaAdminPassword --show-secrets --stack $stack"
}

backup_container() {
    container_names backup | head -n 1
}

verb_backup() {
    [ $# -eq 0 ] || usage_error "backup takes no arguments"
    need_docker
    local job
    job=$(backup_container)
    say "backing up Grafana and Prometheus now, in $job"
    run docker exec "$job" /usr/local/bin/backup.sh
    [ "$dry_run" = 1 ] || docker exec "$job" sh -c 'ls -1t /backups/grafana/*.tar.gz /backups/prometheus/*.tar.gz 2>/dev/null | head -n 4'
}

verb_restore() {
    local archive="" service=""
    while [ $# -gt 0 ]; do
        case $1 in
            --service) [ $# -ge 2 ] || usage_error "--service needs grafana or prometheus"; service=$2; shift 2 ;;
            --service=*) service=${1#--service=}; shift ;;
            -*) usage_error "unknown option $1" ;;
            *) [ -z "$archive" ] || usage_error "one archive at a time"; archive=$1; shift ;;
        esac
    done
    [ -n "$archive" ] || usage_error "restore needs an archive name (grafana-<time>.tar.gz) or latest with --service"
    if [ -z "$service" ]; then
        case $archive in grafana-*) service=grafana ;; prometheus-*) service=prometheus ;; *) usage_error "give --service grafana|prometheus" ;; esac
    fi
    case $service in grafana | prometheus) ;; *) usage_error "--service is grafana or prometheus, got '$service'" ;; esac
    need_docker
    local job image target
    job=$(backup_container)
    if [ "$archive" = latest ]; then
        archive=$(docker exec "$job" sh -c "ls -1 /backups/$service/$service-*.tar.gz 2>/dev/null | sort | tail -n 1")
        [ -n "$archive" ] || fail "no $service archive in the backup location"
    fi
    case $archive in /*) ;; *) archive="/backups/$service/$(basename "$archive")" ;; esac
    say "verifying $archive before touching anything"
    docker exec "$job" sh -c 'cd "$(dirname "$1")" && sha256sum -c "$(basename "$1").sha256"' verify "$archive" ||
        fail "the checksum of $archive does not match (or it is missing): nothing was touched"
    image=$(docker inspect -f '{{.Config.Image}}' "$job")
    target=$(container_names "$service" | head -n 1)
    say "[1/4] stopping $target and the backup job"
    run docker stop "$target" "$job"
    say "[2/4] restoring $(basename "$archive") into $service's volume"
    # The job's volumes, writable: the archive under /backups, the data under /data/<service>.
    run docker run --rm --network none --user 0:0 --volumes-from "$job:rw" "$image" /usr/local/bin/restore.sh "$archive" --service "$service"
    say "[3/4] starting $target"
    run docker start "$target"
    wait_healthy "$target"
    say "[4/4] starting the backup job"
    run docker start "$job"
    say "restored $service from $(basename "$archive"); check it with npm run status"
}

# Global options, anywhere on the line; the rest belongs to the verb.
verb=""
args=()
while [ $# -gt 0 ]; do
    case $1 in
        --dry-run) dry_run=1; shift ;;
        --yes | -y) yes=1; shift ;;
        --stack) [ $# -ge 2 ] || usage_error "--stack needs a name"; stack=$2; shift 2 ;;
        --stack=*) stack=${1#--stack=}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) if [ -z "$verb" ]; then verb=$1; else args+=("$1"); fi; shift ;;
    esac
done
[ -n "$verb" ] || usage_error "which verb?"
case $verb in
    status) verb_status "${args[@]}" ;;
    logs) verb_logs "${args[@]}" ;;
    restart) verb_restart "${args[@]}" ;;
    stop) verb_stop "${args[@]}" ;;
    scale) verb_scale "${args[@]}" ;;
    renew-cert) verb_renew_cert "${args[@]}" ;;
    rotate-grafana-password) verb_rotate_grafana_password "${args[@]}" ;;
    backup) verb_backup "${args[@]}" ;;
    restore) verb_restore "${args[@]}" ;;
    deploy) exec bash scripts/deploy.sh "${args[@]}" ;;
    *) usage_error "unknown verb '$verb'" ;;
esac
