#!/bin/sh
# runc for a test engine on a machine whose bounding set lacks CAP_SYS_RESOURCE (a sandbox):
# removes that capability from the container's OCI config (`runc create --bundle DIR`) and
# from an exec'd process (`runc exec --process FILE`: healthchecks, docker exec), so a
# privileged container (cAdvisor) can start and be checked instead of failing with "unable
# to apply caps". scripts/docker-engine.sh registers it only on such a machine; a normal
# host runs plain runc.
spec=""
previous=""
for arg in "$@"; do
    case "$previous" in
        --bundle | -b) spec="$arg/config.json" ;;
        --process | -p) spec="$arg" ;;
    esac
    previous=$arg
done
if [ -n "$spec" ] && [ -f "$spec" ]; then
    # sed, not a Python interpreter: this runs on every healthcheck exec of every container, and
    # an interpreter's start (0.1 s of CPU, seconds under load) starved the test command's
    # healthchecks. -z reads the file whole, so indented and compact JSON both stay valid.
    sed -z -i \
        -e 's/"CAP_SYS_RESOURCE"[[:space:]]*,[[:space:]]*//g' \
        -e 's/,[[:space:]]*"CAP_SYS_RESOURCE"//g' \
        -e 's/\[[[:space:]]*"CAP_SYS_RESOURCE"[[:space:]]*\]/[]/g' \
        "$spec"
fi
exec runc "$@"
