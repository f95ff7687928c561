# shellcheck shell=bash disable=SC2034,SC2154 # globals of scripts/ops.sh, which sources this file
# restart (sourced by scripts/ops.sh; on Swarm, swarm_restart in ops-swarm.sh).

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
    if on_swarm; then
        [ "$mode" = default ] || usage_error "restart --$mode: not on Swarm, where stack $stack runs: a task is never restarted or signalled in place (no docker kill or exec into tasks; its configs and secrets are immutable). restart ${service:-<service>} replaces its tasks one at a time (a rolling update); a changed file is a new config that npm run deploy rolls out"
        swarm_restart "$service"
        return
    fi
    no_edge_on_one_host "$service"
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
