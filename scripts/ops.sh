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
  restart [service] [--hard|--reload]
                                  docker restart, one container at a time, each healthy before the next;
                                  nginx is reloaded gracefully (SIGHUP, no connection dropped) unless --hard;
                                  --reload: SIGHUP for prometheus, alertmanager, blackbox-exporter too
  stop [--delete-data]            pulumi destroy; data volumes are kept unless --delete-data
  scale N                         replicas = N (1-20), then pulumi up
  renew-cert                      a new key and certificate now (tlsRotation + 1), then pulumi up
  rotate-grafana-password         a new Grafana admin password (grafanaPasswordRotation + 1), then pulumi up
  backup                          a backup of Grafana and Prometheus now
  restore <archive|latest> [--service grafana|prometheus]
                                  verify an archive's checksum, stop the service and the backup job,
                                  restore in a one-shot container, start both again (on any failure too)
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

# Containers a verb stopped (or is restarting): the EXIT trap starts each one that is not
# running, whatever ended the verb (an error, Ctrl-C, SIGTERM, a killed step), waits for it,
# and prints what was done, what was not, and how to retry. Only SIGKILL of ops.sh itself
# escapes it; `npm run status` then shows the container Exited and `docker start` fixes it.
touched=()
no_health_wait=""  # a touched container only checked to be running (the backup job's healthcheck runs once a minute)
oneshot=""       # the one-shot container a step runs in; removed first on a failure
done_note=""     # what the verb completed, for the summary
todo_note=""     # what it has not (yet) done, for the summary
retry_note=""    # the command that does the rest
guard_exit() {
    local rc=$? name failed=0 state
    trap - EXIT INT TERM HUP
    set +e
    # A step's container still there (only if stopping it in on_signal failed) goes first.
    if [ -n "$oneshot" ] && [ "$dry_run" = 0 ]; then docker rm -f "$oneshot" >/dev/null 2>&1; fi
    if [ "$dry_run" = 0 ]; then
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

# Services whose main process reloads its configuration on SIGHUP without a restart.
reloads_on_hup() { case $1 in nginx | prometheus | alertmanager | blackbox-exporter) return 0 ;; *) return 1 ;; esac; }

# nginx's worker pids, as the daemon sees them (docker top needs no exec into the container).
nginx_workers() { docker top "$1" -o pid,args | awk '/nginx: worker process/ { print $1 }' | sort; }

# SIGHUP, sent by the daemon (docker kill --signal): nginx starts new workers with the files
# re-read and lets the old ones finish their requests; Prometheus, Alertmanager and the
# blackbox exporter re-read their configuration. A bad file is logged and the old one kept.
reload_container() {
    local name=$1 service=$2 since before after waited=0 errors
    since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    [ "$service" != nginx ] || before=$(nginx_workers "$name")
    run docker kill --signal HUP "$name"
    [ "$dry_run" = 0 ] || return 0
    if [ "$service" = nginx ]; then
        # Done when every worker is new: the old ones have finished their requests and exited.
        while :; do
            after=$(nginx_workers "$name")
            if [ -n "$after" ] && [ -z "$(comm -12 <(printf '%s\n' "$before") <(printf '%s\n' "$after"))" ]; then break; fi
            [ "$waited" -lt 30 ] || { say "$name: some old workers are still finishing requests after 30 s (normal for long downloads)"; break; }
            sleep 1
            waited=$((waited + 1))
        done
        say "$name: new workers ${after//$'\n'/ } (the old ones, ${before//$'\n'/ }, finished their requests and exited)"
    else
        sleep 1
    fi
    errors=$(docker logs --since "$since" "$name" 2>&1 | grep -iE '\[emerg\]|error loading config|Error reloading|reload.*fail' || true)
    [ -z "$errors" ] || fail "$name did not take the new configuration (it keeps serving the old one):
$errors"
    wait_healthy "$name" || fail "$name is not healthy after its reload"
}

verb_restart() {
    local service="" mode=default
    while [ $# -gt 0 ]; do
        case $1 in
            --hard) mode=hard; shift ;;
            --reload) mode=reload; shift ;;
            -*) usage_error "unknown option $1 (restart takes --hard or --reload)" ;;
            *) [ -z "$service" ] || usage_error "restart takes at most one service"; check_service "$1"; service=$1; shift ;;
        esac
    done
    if [ "$mode" = reload ] && { [ -z "$service" ] || ! reloads_on_hup "$service"; }; then
        usage_error "--reload is for nginx, prometheus, alertmanager or blackbox-exporter (they reload on SIGHUP)"
    fi
    need_docker
    local lines name svc count=0 total reloaded=0
    lines=$(containers "$service")
    [ -n "$lines" ] || fail "no ${service:-platform} container of stack $stack on this Docker host (deployed? npm run status)"
    total=$(printf '%s\n' "$lines" | wc -l)
    case "$service:$mode" in
        nginx:hard | :hard) say "--hard: nginx is the only front door; every connection to it fails for the second or so it restarts (without --hard it reloads gracefully and drops none)" ;;
        nginx:* | :*) say "nginx is reloaded gracefully (SIGHUP: new workers, old ones finish their requests; no connection is dropped); restart nginx --hard restarts its container and drops connections for the second or so it is down" ;;
    esac
    case "$service:$mode" in
        prometheus:default | alertmanager:default) say "$service's UI and API on its published loopback port answer nothing for the seconds it restarts (the front door is not affected); --reload only re-reads its configuration, with no downtime" ;;
        grafana:*) say "grafana's UI on its published loopback port answers nothing for the seconds it restarts (the front door is not affected)" ;;
    esac
    guard
    while read -r svc name; do
        count=$((count + 1))
        if { [ "$svc" = nginx ] && [ "$mode" != hard ]; } || [ "$mode" = reload ]; then
            say "[$count/$total] reloading $name (SIGHUP)"
            reload_container "$name" "$svc"
            reloaded=$((reloaded + 1))
        else
            say "[$count/$total] restarting $name"
            touched=("$name")
            retry_note="npm run restart -- $svc --stack $stack"
            run docker restart "$name"
            wait_healthy "$name" || { todo_note="$name is not healthy after its restart"; fail "$name is not healthy after its restart"; }
            touched=()
        fi
    done <<<"$lines"
    say "restarted $((total - reloaded)) container(s), reloaded $reloaded"
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
    [ "$dry_run" = 1 ] || [ "$(docker inspect -f '{{.State.Status}}' "$job")" = running ] ||
        fail "the backup job $job is not running ($(docker inspect -f '{{.State.Status}}' "$job")): start it with docker start $job, then npm run backup"
    say "backing up Grafana and Prometheus now, in $job"
    # Waits for a scheduled run that is already going, instead of failing.
    run docker exec -e BACKUP_LOCK_WAIT_SECONDS=600 "$job" /usr/local/bin/backup.sh
    [ "$dry_run" = 1 ] || docker exec "$job" sh -c 'ls -1t /backups/grafana/*.tar.gz /backups/prometheus/*.tar.gz 2>/dev/null | head -n 4'
}

# The source (volume name or host directory) the backup job mounts at $1, from its Mounts;
# the job's state does not matter.
job_mount() {
    docker inspect -f '{{range .Mounts}}{{if eq .Destination "'"$2"'"}}{{if eq .Type "volume"}}{{.Name}}{{else}}{{.Source}}{{end}}{{end}}{{end}}' "$1"
}

# Runs restore.sh's image with the service's data volume at /data/<service> ($1: ro or rw) and
# the archives read-only at /backups, on no network, as root (the data keep their owners).
# The container is named, so the EXIT trap can remove it if the verb is stopped mid-step.
restore_image_run() {
    local mode=$1
    shift
    # shellcheck disable=SC2206 # OPS_RESTORE_DOCKER_ARGS is a list of docker run options
    local extra=(${OPS_RESTORE_DOCKER_ARGS:-})
    local cmd=(docker run --rm --label clinicalbdd.ops=restore --network none --user 0:0 --security-opt no-new-privileges
        --cap-drop ALL --cap-add CHOWN --cap-add DAC_OVERRIDE --cap-add FOWNER --cap-add FSETID "${extra[@]}"
        -v "$data_source:/data/$service:$mode" -v "$archive_source:/backups:ro" "$image" "$@")
    # Look-ups (ro) run even with --dry-run; the restore itself (rw) is a change, named
    # ($oneshot) so a signal can stop it.
    [ "$mode" = rw ] || { "${cmd[@]}"; return; }
    run "${cmd[0]}" "${cmd[1]}" --name "$oneshot" "${cmd[@]:2}"
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
        case $archive in grafana-* | */grafana-*) service=grafana ;; prometheus-* | */prometheus-*) service=prometheus ;; *) usage_error "give --service grafana|prometheus" ;; esac
    fi
    case $service in grafana | prometheus) ;; *) usage_error "--service is grafana or prometheus, got '$service'" ;; esac
    need_docker
    local job target image data_source archive_source name rc was_running=()
    job=$(backup_container)
    target=$(container_names "$service" | head -n 1)
    # Everything from the job's configuration, none from its running: its image (by id, so a
    # retagged image does not matter) and the volumes it mounts. The restore runs in its own
    # container with the data volume writable; the job's own mount of it may be read-only.
    image=$(docker inspect -f '{{.Image}}' "$job")
    data_source=$(job_mount "$job" "/data/$service")
    archive_source=$(job_mount "$job" /backups)
    [ -n "$data_source" ] || fail "the backup job $job mounts nothing at /data/$service: cannot tell $service's volume; nothing was touched"
    [ -n "$archive_source" ] || fail "the backup job $job mounts nothing at /backups: cannot find the archives; nothing was touched"
    docker inspect -f '{{range .Mounts}}{{.Name}} {{.Source}} {{end}}' "$target" | tr ' ' '\n' | grep -qxF "$data_source" ||
        fail "$target does not mount $data_source, the volume the backup job backs up as $service: nothing was touched"
    if [ "$archive" = latest ]; then
        archive=$(restore_image_run ro sh -c "ls -1 /backups/$service/$service-*.tar.gz 2>/dev/null | sort | tail -n 1") ||
            fail "could not list the archives in $archive_source; nothing was touched"
        [ -n "$archive" ] || fail "no $service archive in the backup location ($archive_source); nothing was touched"
    fi
    case $archive in /*) ;; *) archive="/backups/$service/$(basename "$archive")" ;; esac
    retry_note="npm run restore -- $(basename "$archive") --service $service --stack $stack --yes"
    say "verifying $archive (checksum and contents) before touching anything"
    restore_image_run ro /usr/local/bin/restore.sh --check "$archive" --service "$service" ||
        fail "$(basename "$archive") cannot be restored (above): nothing was touched"

    todo_note="$service is not restored from $(basename "$archive"); its data are unchanged"
    step_done() {
        case $1 in
            0) done_note="restored $service from $(basename "$archive")"; todo_note="" ;;
            1) todo_note="$service is not restored from $(basename "$archive"); its data are unchanged" ;;
            *) todo_note="$service is not restored from $(basename "$archive"): the restore step ended with code $1 part way, so its data may be part old, part new; restore again now" ;;
        esac
    }
    guard
    for name in "$target" "$job"; do
        [ "$(docker inspect -f '{{.State.Status}}' "$name")" != running ] || was_running+=("$name")
    done
    # The service first (nothing writes its data after this), then the job (no backup reads them).
    say "[1/4] stopping $target and the backup job ($job)"
    touched=("$target" "$job")
    no_health_wait=$job
    local phase_started=$SECONDS
    [ ${#was_running[@]} -eq 0 ] || run docker stop "${was_running[@]}" >/dev/null
    say "stopped in $((SECONDS - phase_started)) s"
    say "[2/4] restoring $(basename "$archive") into $data_source"
    phase_started=$SECONDS
    # In the background, so a signal reaches on_signal at once (bash defers traps while a
    # foreground command runs) and it can stop the step cleanly.
    oneshot="clinicalbdd-restore-$stack-$service-$$"
    rc=0
    restore_image_run rw /usr/local/bin/restore.sh "$archive" --service "$service" &
    step_pid=$!
    wait "$step_pid" || rc=$?
    step_pid=""
    oneshot=""
    step_done "$rc"
    [ "$rc" -eq 0 ] || fail "the restore step failed (code $rc, above) after $((SECONDS - phase_started)) s"
    say "restore step done in $((SECONDS - phase_started)) s"
    # The EXIT trap starts both (the service first, healthy, then the job) on this path as on every other.
    say "[3/4] starting $target (healthy), then [4/4] the backup job"
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
