#!/usr/bin/env bash
# The Swarm halves of the operator's verbs (scripts/ops.sh sources this file when the stack's
# `platform` is swarm). Services are found by the clinicalbdd.stack and clinicalbdd.service
# labels the program puts on them; run on a manager node. No `docker exec` into tasks: every
# change of files is a new config or secret and a rolling update through `pulumi up`.
# Expects from ops.sh: $stack (the stack name), say and fail.

# The Swarm service of one part of the platform (app, nginx, prometheus, grafana, backup, …).
swarm_service() {
  local name
  name=$(docker service ls --quiet --filter "label=clinicalbdd.stack=${stack:?set by ops.sh}" --filter "label=clinicalbdd.service=$1" --format '{{.Name}}')
  [ -n "$name" ] || fail "no Swarm service for $1 in stack ${stack:?set by ops.sh} (is this a manager of the stack's cluster?)"
  printf '%s\n' "$name"
}

# Every service of the stack: desired and running tasks, and the last update's state.
swarm_status() {
  local failing=0 svc
  docker service ls --filter "label=clinicalbdd.stack=${stack:?set by ops.sh}" --format 'table {{.Name}}\t{{.Mode}}\t{{.Replicas}}\t{{.Image}}'
  for svc in $(docker service ls --quiet --filter "label=clinicalbdd.stack=${stack:?set by ops.sh}" --format '{{.Name}}'); do
    local update
    update=$(docker service inspect --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}: {{.UpdateStatus.Message}}{{end}}' "$svc")
    case $update in rollback_* | paused*) say "$svc: $update"; failing=1 ;; esac
    docker service ps "$svc" --filter desired-state=running --format '{{.Name}} {{.Node}} {{.CurrentState}} {{.Error}}' |
      awk -v svc="$svc" '$0 !~ / Running / { print svc ": not running: " $0; bad = 1 } END { exit bad }' || failing=1
  done
  return "$failing"
}

# Logs of every task of one service, on every node (Swarm gathers them): service, since, follow (0/1).
swarm_logs() {
  local follow=()
  [ "${3:-0}" = 1 ] && follow=(--follow)
  docker service logs --timestamps --since "${2:-1h}" "${follow[@]}" "$(swarm_service "$1")"
}

# A rolling restart: each task replaced in turn by the service's own update config (start-first
# where the service allows it, stop-first for the data services), waited for until converged.
swarm_restart() {
  local svc
  svc=$(swarm_service "$1")
  docker service update --force --detach=false "$svc" >/dev/null || fail "$svc did not converge after the restart; see: docker service ps --no-trunc $svc"
  say "$svc restarted task by task"
}

# The newest task container of a service on this node, for the backup job's scripts; the
# backup service is pinned to the data node, so run backup and restore there.
swarm_task_container() {
  local id
  id=$(docker ps --quiet --filter "label=com.docker.swarm.service.name=$(swarm_service "$1")" | head -n 1)
  [ -n "$id" ] || fail "no running task of $1 on this node: run this on the node labelled clinicalbdd.data=true"
  printf '%s\n' "$id"
}
