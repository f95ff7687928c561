#!/usr/bin/env bash
# README command 2: installs everything the tests need on a fresh Debian machine, then runs
# every test: type check, jest (mocks, renderers checked by nginx/promtool/amtool, the
# program on a real Docker engine), pytest for app/, actionlint on the
# workflows, shellcheck on the scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# shellcheck source-path=SCRIPTDIR/..
source scripts/platform-env.sh
fail() { printf 'test: %s\n' "$*" >&2; exit 1; }
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

step() { printf '\n==> %s\n' "$*"; }

# Debian packages: real servers and validators. Installed only when missing.
debian_packages=(nginx prometheus prometheus-alertmanager prometheus-node-exporter
    prometheus-blackbox-exporter prometheus-nginx-exporter wrk shellcheck openssl sqlite3
    libnginx-mod-stream docker.io debootstrap iproute2)
missing=()
for package in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    step "installing Debian packages: ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Docker engine and the images, in the background while the toolchains install: mostly
# waiting on downloads, and the longest of the set-up steps.
step "Docker engine and the images the program runs, in the background (log below when done)"
(bash scripts/docker-engine.sh && bash test/engine/build-images.sh) >"$results/engine.log" 2>&1 &
engine_setup=$!

# actionlint, pinned, from the Go module proxy.
actionlint_version=v1.7.12
gobin=$(go env GOPATH)/bin
if ! "$gobin/actionlint" -version 2>/dev/null | grep -q "${actionlint_version#v}"; then
    step "installing actionlint $actionlint_version"
    go install "github.com/rhysd/actionlint/cmd/actionlint@$actionlint_version"
fi

step "Node.js >= 22 (what @pulumi/pulumi supports)"
use_node22

step "npm ci"
npm ci --no-audit --no-fund --loglevel=error

step "Python venv for app/ (app/requirements-dev.txt)"
[ -x app/.venv/bin/python ] || python3 -m venv app/.venv
app/.venv/bin/pip install --quiet --disable-pip-version-check -r app/requirements-dev.txt

step "Docker engine (Debian's docker.io, started here when none answers) and the images, built offline (test/engine/build-images.sh; imitations are labelled)"
engine_status=0
wait "$engine_setup" || engine_status=$?
cat "$results/engine.log"
[ "$engine_status" -eq 0 ] || fail "the Docker engine or the images could not be set up (exit $engine_status)"

# The Swarm real-engine tests spend most of their time waiting on rolling updates and
# convergence, so they run beside everything else, in jests of their own; their output is
# printed when they end. First a one-node `docker swarm init` of the same engine, then a
# Swarm of three engines in network namespaces (test/engine/swarm-cluster.sh).
step "jest: the Swarm real-engine tests, in the background (output below the main jest run)"
swarm_state_before=$(docker info --format '{{.Swarm.LocalNodeState}}')
(
    npx jest --ci --testPathIgnorePatterns /node_modules/ --runTestsByPath test/swarmEngine.test.ts test/opsSwarmEngine.test.ts \
        --json --outputFile="$results/jest-swarm.json" || exit_status=$?
    bash test/engine/swarm-cluster.sh test --json --outputFile="$results/jest-swarm-cluster.json" || exit_status=$?
    exit "${exit_status:-0}"
) >"$results/jest-swarm.log" 2>&1 &
swarm_jest=$!

status=0
step "tsc --noEmit (strict)"
npx tsc --noEmit -p . || status=1

step "actionlint .github/workflows"
"$gobin/actionlint" -shellcheck=shellcheck || status=1

step "shellcheck scripts"
shellcheck scripts/*.sh .ci/run backup/*.sh test/engine/*.sh || status=1

# pytest computes while most of jest waits on the engine: side by side, its output after jest's.
step "pytest app/, in the background (output below the main jest run)"
(cd app && .venv/bin/python -m pytest -q -p no:cacheprovider --junitxml="$results/pytest.xml") >"$results/pytest.log" 2>&1 &
pytest_run=$!

# Two workers, not jest's default of one per spare core (one here): the operator-verb suite on
# the engine (about 8 minutes) mostly waits on restarts, so the other files run beside it.
step "jest"
npx jest --ci --maxWorkers=2 --json --outputFile="$results/jest.json" || status=1

step "pytest app/"
wait "$pytest_run" || status=1
cat "$results/pytest.log"

step "jest: the Swarm real-engine tests"
wait "$swarm_jest" || status=1
cat "$results/jest-swarm.log"
# The Swarm tests do not leave the Swarm while other containers run (leaving wipes their
# embedded DNS); with every test done, the engine goes back to how it was.
if [ "$swarm_state_before" != active ] && [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" = active ]; then
    docker swarm leave --force >/dev/null || true
fi

# One closing line over every runner.
node "$root/scripts/test-summary.js" jest="$results/jest.json" jest-swarm="$results/jest-swarm.json" \
    jest-swarm-cluster="$results/jest-swarm-cluster.json" pytest="$results/pytest.xml" || status=1
exit $status
