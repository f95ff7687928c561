# shellcheck shell=bash disable=SC2034,SC2154 # globals of scripts/ops.sh, which sources this file
# status and logs (sourced by scripts/ops.sh; the Swarm halves are in ops-swarm.sh).

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

    if on_swarm; then
        swarm_status
    else
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
    fi

    printf '\nEndpoints\n  %-14s %-46s %s\n' CHECK URL RESULT
    while read -r name url; do
        # Swarm publishes no monitoring UI on a loopback port (it cannot bind an address):
        # their health is their tasks' healthchecks, above.
        if [ "$platform" = swarm ] && [ "${url#https://}" = "$url" ]; then
            printf '  %-14s %-46s %s\n' "$name" "$url" "not published on Swarm (its tasks' healthchecks are above)"
            continue
        fi
        if code=$(curl -k -s -o /dev/null -w '%{http_code} in %{time_total} s' --max-time 10 "$url"); then :; else code="unreachable (curl exit $?)"; fi
        case $code in 2??" in "*) ;; *) problems=$((problems + 1)) ;; esac
        printf '  %-14s %-46s %s\n' "$name" "$url" "$code"
    done <<EOT
app-health $(pulumi stack output healthUrl --stack "$stack")
prometheus $(pulumi stack output prometheusUrl --stack "$stack")-/healthy
grafana $(pulumi stack output grafanaUrl --stack "$stack")api/health
alertmanager $(pulumi stack output alertmanagerUrl --stack "$stack")-/healthy
EOT
    echo
    [ "$problems" -eq 0 ] || fail "$problems problem(s) above${problem_services:+ (Swarm services: $problem_services)}"
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
    if on_swarm; then
        swarm_logs "$service" "$since" "$follow"
        return
    fi
    no_edge_on_one_host "$service"
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
