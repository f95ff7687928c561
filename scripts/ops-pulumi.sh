# shellcheck shell=bash disable=SC2034,SC2154 # globals of scripts/ops.sh, which sources this file
# The verbs that change the stack through Pulumi (config set, then pulumi up or destroy), the
# same on both targets: stop, scale, renew-cert, rotate-grafana-password (sourced by scripts/ops.sh).

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

# The stack's `platform` config (docker unless set): what a change does differs, not how it is made.
configured_platform() {
    local value
    value=$(pulumi config get platform --stack "$stack" 2>/dev/null || true)
    printf '%s\n' "${value:-docker}"
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
    local on=docker volumes=""
    on=$(configured_platform)
    if [ "$delete_data" = 1 ]; then
        if [ "$on" = swarm ]; then
            # Swarm creates the data volumes on the data node when a task first mounts them;
            # Pulumi does not manage them, so they are named from the services before destroy.
            need_docker
            volumes=$(swarm_stack_volumes)
            [ -n "$volumes" ] || fail "no service of stack $stack on this engine names a data volume (DOCKER_HOST a manager of its cluster?); nothing was changed"
            say "--delete-data: after pulumi destroy, these volumes on the data node will be DELETED: ${volumes//$'\n'/ }"
        else
            say "--delete-data: the Prometheus, Grafana and Alertmanager volumes and the backup volume will be DELETED"
        fi
        if [ "$yes" = 0 ] && [ "$dry_run" = 0 ]; then
            local answer
            read -r -p "Type the stack name ($stack) to delete its data: " answer
            [ "$answer" = "$stack" ] || fail "not confirmed; nothing was changed"
        fi
        if [ "$on" != swarm ]; then
            # The volumes keep retainOnDelete from the last `up`: set it off in the state first.
            run pulumi config set retainDataVolumes false --stack "$stack"
            pulumi_up
        fi
    elif [ "$on" = swarm ]; then
        say "data volumes are kept on the data node (Swarm made them; Pulumi does not manage them); the next npm run deploy mounts them again"
    else
        say "data volumes are kept (retainDataVolumes); the next npm run deploy reattaches them"
    fi
    local args=(destroy --stack "$stack")
    [ "$yes" = 0 ] || args+=(--yes)
    run pulumi "${args[@]}"
    if [ "$delete_data" = 1 ]; then
        if [ "$on" = swarm ]; then
            swarm_remove_volumes "$volumes"
        else
            run pulumi config set retainDataVolumes true --stack "$stack"
        fi
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
    if [ "$(configured_platform)" = swarm ]; then
        say "a new key and certificate: a new secret and config; the front-door nginx tasks are replaced one at a time, each new one serving before the old stops (a rolling update pulumi up waits for)"
    else
        say "a new key and certificate; nginx reloads them without a restart"
    fi
    bump_and_up tlsRotation
    [ "$dry_run" = 1 ] || say "expires: $(pulumi stack output certificateExpiresAt --stack "$stack")"
}

verb_rotate_grafana_password() {
    [ $# -eq 0 ] || usage_error "rotate-grafana-password takes no arguments"
    need_pulumi
    if [ "$(configured_platform)" = swarm ]; then
        say "a new Grafana admin password: a new secret, set as Grafana's task restarts (stop-first: Grafana answers nothing for those seconds)"
    else
        say "a new Grafana admin password, set in the running Grafana"
    fi
    bump_and_up grafanaPasswordRotation
    say "read it with: pulumi stack output grafanaAdminPassword --show-secrets --stack $stack"
}
