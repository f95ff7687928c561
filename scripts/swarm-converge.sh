#!/usr/bin/env bash
# Waits until a replicated Swarm service has converged on its current spec: as many tasks
# desired running as it has replicas, each running the service's current task template, and
# no rollback in progress. Run by `pulumi up` after each service update (targets/swarm/
# convergence.ts). On a rollback, a paused update or the timeout it fails, naming the reason
# Swarm gives for the tasks that are not running ("no suitable node (insufficient resources
# on 1 node)", a failed healthcheck, …), where the provider would only say "did not converge".
# The service is left as it is, for the operator to look at: nothing is deleted.
set -euo pipefail
service=${1:?usage: swarm-converge.sh SERVICE TIMEOUT_SECONDS}
timeout=${2:?usage: swarm-converge.sh SERVICE TIMEOUT_SECONDS}
deadline=$((SECONDS + timeout))

# Why the service's tasks are not running: the newest few that are not, with Swarm's own words.
reasons() {
    docker service ps --no-trunc --format '{{.Name}} {{.CurrentState}}: {{.Error}}' "$service" |
        awk 'NF && !/ Running / && shown++ < 4 { print "  task " $0 }'
}
fail() {
    printf 'service %s did not converge: %s\n%s\n' "$service" "$1" "$(reasons)" >&2
    exit 1
}

# What a task runs, as a Go template over a task spec: every field a config change can touch.
# (Not the whole spec: Swarm stores empty parts of a task's copy differently, `{}` vs null.)
spec_of() {
    local at=$1
    printf '{{json %s.ContainerSpec.Image}} {{json %s.ContainerSpec.Args}} {{json %s.ContainerSpec.Command}} ' "$at" "$at" "$at"
    printf '{{json %s.ContainerSpec.Env}} {{json %s.ContainerSpec.Labels}} {{json %s.ContainerSpec.Mounts}} ' "$at" "$at" "$at"
    printf '{{json %s.ContainerSpec.Configs}} {{json %s.ContainerSpec.Secrets}} {{json %s.ContainerSpec.Healthcheck}} ' "$at" "$at" "$at"
    printf '{{json %s.Resources}} {{json %s.ForceUpdate}}' "$at" "$at"
}

# Counts the tasks desired running and those of them running the current spec.
converged() {
    local template want tasks=0 current=0 task state spec
    template=$(docker service inspect --format "$(spec_of .Spec.TaskTemplate)" "$service")
    want=$(docker service inspect --format '{{.Spec.Mode.Replicated.Replicas}}' "$service")
    for task in $(docker service ps --quiet --filter desired-state=running "$service"); do
        tasks=$((tasks + 1))
        state=$(docker inspect --type task --format '{{.Status.State}}' "$task")
        spec=$(docker inspect --type task --format "$(spec_of .Spec)" "$task")
        if [ "$state" = running ] && [ "$spec" = "$template" ]; then current=$((current + 1)); fi
    done
    progress="$current of $want tasks running the current spec ($tasks desired running)"
    [ "$tasks" -eq "$want" ] && [ "$current" -eq "$want" ]
}

progress=""
while :; do
    update=$(docker service inspect --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}|{{.UpdateStatus.Message}}{{end}}' "$service")
    case ${update%%|*} in
        rollback_completed | rollback_paused | paused) fail "update ${update%%|*}: ${update#*|}" ;;
        # Converged once every task runs the new spec, as the provider counts it: Swarm may still
        # be in the update's monitor period, and rolls back by itself if a task fails in it.
        rollback_started) ;;
        *) if converged; then exit 0; fi ;;
    esac
    [ "$SECONDS" -lt "$deadline" ] || fail "after ${timeout}s, ${progress:-an update still in progress}"
    sleep 2
done
