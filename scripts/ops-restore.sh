# shellcheck shell=bash disable=SC2034,SC2154 # globals of scripts/ops.sh, which sources this file
# backup and restore (sourced by scripts/ops.sh). One flow for both targets; where they differ
# (finding the job, its image and volumes; stopping and starting the service and the job)
# the Swarm halves are swarm_* in ops-swarm.sh.

backup_container() {
    container_names backup | sed -n 1p
}

verb_backup() {
    [ $# -eq 0 ] || usage_error "backup takes no arguments"
    need_docker
    local job
    if on_swarm; then
        # The job's task runs on the data node (clinicalbdd.data=true): this engine must be it.
        job=$(swarm_task_container backup)
    else
        job=$(backup_container)
        [ "$dry_run" = 1 ] || [ "$(docker inspect -f '{{.State.Status}}' "$job")" = running ] ||
            fail "the backup job $job is not running ($(docker inspect -f '{{.State.Status}}' "$job")): start it with docker start $job, then npm run backup"
    fi
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

# One host: the job's and the service's containers, the job's image and mounts.
host_restore_sources() {
    job=$(backup_container)
    target=$(container_names "$service" | sed -n 1p)
    # Everything from the job's configuration, none from its running: its image (by id, so a
    # retagged image does not matter) and the volumes it mounts. The restore runs in its own
    # container with the data volume writable; the job's own mount of it may be read-only.
    image=$(docker inspect -f '{{.Image}}' "$job")
    data_source=$(job_mount "$job" "/data/$service")
    archive_source=$(job_mount "$job" /backups)
    check_restore_sources "$(docker inspect -f '{{range .Mounts}}{{.Name}} {{.Source}} {{end}}' "$target")"
}

# Both targets: the job mounts the service's data and the archives, and the service mounts the
# same data ($1: the service's mount names and sources, separated by spaces).
check_restore_sources() {
    [ -n "$data_source" ] || fail "the backup job $job mounts nothing at /data/$service: cannot tell $service's volume; nothing was touched"
    [ -n "$archive_source" ] || fail "the backup job $job mounts nothing at /backups: cannot find the archives; nothing was touched"
    grep -qxF "$data_source" <<<"$(tr ' ' '\n' <<<"$1")" ||
        fail "$target does not mount $data_source, the volume the backup job backs up as $service: nothing was touched"
}

# One host: the service first (nothing writes its data after this), then the job (no backup reads them).
host_stop_for_restore() {
    local name was_running=() phase_started=$SECONDS
    for name in "$target" "$job"; do
        [ "$(docker inspect -f '{{.State.Status}}' "$name")" != running ] || was_running+=("$name")
    done
    say "[1/4] stopping $target and the backup job ($job)"
    touched=("$target" "$job")
    no_health_wait=$job
    [ ${#was_running[@]} -eq 0 ] || run docker stop "${was_running[@]}" >/dev/null
    say "stopped in $((SECONDS - phase_started)) s"
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
    # job and target: containers (one host) or services (Swarm); set by the *_restore_sources.
    local job target image data_source archive_source rc
    if on_swarm; then swarm_restore_sources; else host_restore_sources; fi
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
    if [ "$platform" = swarm ]; then swarm_stop_for_restore; else host_stop_for_restore; fi
    say "[2/4] restoring $(basename "$archive") into $data_source"
    local phase_started=$SECONDS
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
    if [ "$platform" = swarm ]; then
        say "[3/4] scaling $target back (its task running and healthy), then [4/4] the backup job"
    else
        say "[3/4] starting $target (healthy), then [4/4] the backup job"
    fi
}
