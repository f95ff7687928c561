# shellcheck shell=bash disable=SC2034,SC2154 # globals of scripts/ops.sh, which sources this file
# The Swarm halves of the operator's verbs: scripts/ops.sh runs them when the stack is on
# Swarm (on_swarm: this engine is a manager holding services labelled with the stack).
# Services are found by the clinicalbdd.stack and clinicalbdd.service labels the program puts
# on them and on their task containers. No `docker exec`, kill or restart into a task to
# change it: a restart is a rolling update, every change of files a new config or secret
# rolled out by `pulumi up`. backup and restore run on the data node (clinicalbdd.data=true),
# where the job's task and the data volumes are, which must then be a manager too.
# Expects from ops.sh: $stack, $dry_run, $health_wait_seconds, say, fail, usage_error, run, and
# for the restore its locals (service, job, target, image, data_source, archive_source) and
# the guard's scaled and no_health_wait.

# The Swarm service of one part of the platform (app, nginx, edge, prometheus, grafana, backup, …).
swarm_service() {
    local name
    name=$(docker service ls --quiet --filter "label=clinicalbdd.stack=$stack" --filter "label=clinicalbdd.service=$1" --format '{{.Name}}')
    [ -n "$name" ] || fail "no Swarm service for $1 in stack $stack (is this a manager of the stack's cluster?)"
    printf '%s\n' "$name"
}

# Every service of the stack, "label name" per line, sorted by label; or only $1's.
swarm_services() {
    local names
    if [ -n "${1:-}" ]; then
        printf '%s %s\n' "$1" "$(swarm_service "$1")"
        return
    fi
    names=$(docker service ls --quiet --filter "label=clinicalbdd.stack=$stack" --format '{{.Name}}')
    [ -n "$names" ] || fail "no Swarm service of stack $stack"
    # shellcheck disable=SC2086 # one name per word
    docker service inspect -f '{{index .Spec.Labels "clinicalbdd.service"}} {{.Spec.Name}}' $names | sort
}

# The running task container of a service on this node (the backup job's, for backup):
# the job is pinned to the data node, so run backup there.
swarm_task_container() {
    local name id
    name=$(swarm_service "$1")
    id=$(docker ps --filter "label=com.docker.swarm.service.name=$name" --format '{{.Names}}' | sed -n 1p)
    [ -n "$id" ] || fail "no running task of $name on this node: run this on the node labelled clinicalbdd.data=true (DOCKER_HOST), and check npm run status"
    printf '%s\n' "$id"
}

# The source (volume name or host directory) a service mounts at $2, from its spec.
swarm_mount() {
    docker service inspect -f '{{range .Spec.TaskTemplate.ContainerSpec.Mounts}}{{if eq .Target "'"$2"'"}}{{.Source}}{{end}}{{end}}' "$1"
}

# restore, Swarm: the job's and the service's services, the job's image and mounts, on the data node.
swarm_restore_sources() {
    local task
    job=$(swarm_service backup)
    target=$(swarm_service "$service")
    [ "$(docker node inspect self --format '{{index .Spec.Labels "clinicalbdd.data"}}')" = true ] ||
        fail "restore runs on the data node (labelled clinicalbdd.data=true), where $service's volume is; this engine is node $(docker info --format '{{.Name}}'): point DOCKER_HOST at the data node (a manager); nothing was touched"
    # The image of the job's task here, by id (a retagged image does not matter); else its spec's.
    task=$(docker ps -aq --filter "label=com.docker.swarm.service.name=$job" | sed -n 1p)
    if [ -n "$task" ]; then image=$(docker inspect -f '{{.Image}}' "$task"); else image=$(docker service inspect -f '{{.Spec.TaskTemplate.ContainerSpec.Image}}' "$job"); fi
    data_source=$(swarm_mount "$job" "/data/$service")
    archive_source=$(swarm_mount "$job" /backups)
    check_restore_sources "$(docker service inspect -f '{{range .Spec.TaskTemplate.ContainerSpec.Mounts}}{{.Source}} {{end}}' "$target")"
    case $data_source in
        /*) ;;
        *) docker volume inspect "$data_source" >/dev/null 2>&1 || fail "no volume $data_source on this node: is it the data node? nothing was touched" ;;
    esac
}

# restore, Swarm: both services to 0 tasks (Swarm stops them), waited for until their tasks are
# gone; the guard's scaled list makes the EXIT trap scale them back, the service first.
swarm_stop_for_restore() {
    local name replicas phase_started=$SECONDS
    for name in "$target" "$job"; do
        replicas=$(docker service inspect -f '{{if .Spec.Mode.Replicated}}{{.Spec.Mode.Replicated.Replicas}}{{end}}' "$name")
        case $replicas in '' | 0 | *[!0-9]*) say "$name has ${replicas:-no} replicas; it is scaled back to 1"; replicas=1 ;; esac
        scaled+=("$name=$replicas")
    done
    no_health_wait=$job
    say "[1/4] scaling $target and the backup job ($job) to 0 tasks"
    run docker service scale --detach "$target=0" "$job=0"
    swarm_wait_gone "$target" "$job" || fail "the tasks of $target or $job are still running; nothing was restored"
    say "stopped in $((SECONDS - phase_started)) s"
}

# Waits until no task of the services should run or runs (on this node: their containers stopped).
swarm_wait_gone() {
    [ "$dry_run" = 0 ] || return 0
    local started=$SECONDS name left
    while :; do
        left=""
        for name in "$@"; do
            if [ -n "$(docker service ps "$name" --quiet --filter desired-state=running)" ] ||
                [ -n "$(docker ps --quiet --filter "label=com.docker.swarm.service.name=$name")" ]; then left+=" $name"; fi
        done
        [ -n "$left" ] || return 0
        if [ $((SECONDS - started)) -ge "$health_wait_seconds" ]; then
            say "still running after $health_wait_seconds s:$left" >&2
            return 1
        fi
        sleep 1
    done
}

# Waits until $2 tasks of service $1 run: healthy (Swarm says Running once the healthcheck
# passes), or with $3 = started, their containers running on this node (the backup job turns
# healthy only after its first run).
swarm_wait_running() {
    local name=$1 want=$2 how=${3:-healthy} started=$SECONDS have
    [ "$dry_run" = 0 ] || return 0
    while :; do
        if [ "$how" = started ]; then
            have=$(docker ps --quiet --filter "label=com.docker.swarm.service.name=$name" | wc -l)
        else
            have=$(docker service ps "$name" --filter desired-state=running --format '{{.CurrentState}}' | grep -c '^Running' || true)
        fi
        if [ "$have" -ge "$want" ]; then
            if [ "$how" = started ]; then say "$name is running ($have task(s) started) after $((SECONDS - started)) s"
            else say "$name is running and healthy ($have task(s)) after $((SECONDS - started)) s"; fi
            return 0
        fi
        if [ $((SECONDS - started)) -ge "$health_wait_seconds" ]; then
            say "$name has $have of $want task(s) $how after $health_wait_seconds s: see docker service ps --no-trunc $name" >&2
            docker service ps "$name" --no-trunc --format '  {{.Name}} {{.CurrentState}} {{.Error}}' 2>&1 | head -n 5 >&2
            return 1
        fi
        [ $(((SECONDS - started) % 10)) -ne 0 ] || printf '%s: waiting for %s (%s of %s task(s) %s, %d s)\n' "$verb" "$name" "$have" "$want" "$how" "$((SECONDS - started))"
        sleep 1
    done
}

# The EXIT trap's half for Swarm: each scaled service back to its replicas, in order, waited for.
swarm_scale_back() {
    local entry name replicas failed=0 how
    for entry in "${scaled[@]}"; do
        name=${entry%=*}
        replicas=${entry##*=}
        say "scaling $name back to $replicas task(s)"
        if ! docker service scale --detach "$name=$replicas" >/dev/null; then
            say "could not scale $name back: run docker service scale $name=$replicas" >&2
            failed=1
            continue
        fi
        how=healthy
        [ "$name" != "$no_health_wait" ] || how=started
        swarm_wait_running "$name" "$replicas" "$how" || failed=1
    done
    return "$failed"
}
