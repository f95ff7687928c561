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
    python3 - "$spec" <<'PY'
import json, sys
path = sys.argv[1]
with open(path) as f:
    spec = json.load(f)
process = spec.get("process", spec)  # config.json holds a process; a --process file is one
for kind, names in (process.get("capabilities") or {}).items():
    process["capabilities"][kind] = [n for n in names if n != "CAP_SYS_RESOURCE"]
with open(path, "w") as f:
    json.dump(spec, f)
PY
fi
exec runc "$@"
