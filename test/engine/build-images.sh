#!/usr/bin/env bash
# Builds, on an engine that cannot reach any registry, every image the program runs, tagged
# exactly as Pulumi.yaml's defaults (read at run time), plus the two base images the
# project's own Dockerfiles start FROM (app/ and backup/). The Debian base comes from
# `debootstrap --variant=minbase bookworm`; the rest are Dockerfiles in test/engine/images/
# (Debian's packages where Debian has them, small Python imitations where it has not).
# Cached: an image whose label org.clinicalbdd.inputs-hash matches its inputs is not rebuilt,
# so a second run takes seconds. FORCE=1 rebuilds everything from nothing (debootstrap again,
# docker build --no-cache). Prints one line per image: tag, real or imitation, what it lacks.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
images="$here/images"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
ca_bundle="${HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
force="${FORCE:-0}"
jobs="${BUILD_JOBS:-3}"

die() { printf 'build-images: ERROR: %s\n' "$*" >&2; exit 1; }
log() { printf 'build-images: %s\n' "$*" >&2; }

command -v docker >/dev/null || die "no docker CLI (run scripts/docker-engine.sh)"
docker info >/dev/null 2>&1 || die "no Docker daemon answers (run scripts/docker-engine.sh)"
[[ -r "$ca_bundle" ]] || die "no CA bundle at $ca_bundle (HOST_CA_BUNDLE)"

# A client that can use the daemon's BuildKit: one with the buildx plugin, or a client older
# than 23.0 (Debian's 20.10 /usr/bin/docker has BuildKit built in). A newer client without
# buildx refuses DOCKER_BUILDKIT=1 ("BuildKit is enabled but the buildx component is missing
# or broken"), so failing both, use the legacy builder (these Dockerfiles need no BuildKit).
build_cli=(docker)
if docker buildx version >/dev/null 2>&1; then
    export DOCKER_BUILDKIT=1
else
    for candidate in docker /usr/bin/docker; do
        version="$("$candidate" version --format '{{.Client.Version}}' 2>/dev/null || true)"
        if [[ "$version" =~ ^(1[89]|2[0-2])\. ]]; then
            build_cli=("$candidate")
            export DOCKER_BUILDKIT=1
            break
        fi
    done
    [[ "${DOCKER_BUILDKIT:-}" == 1 ]] || export DOCKER_BUILDKIT=0
fi

# shellcheck source=test/engine/image-names.sh
source "$here/image-names.sh"

label_of() { docker image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true; }
hash_inputs() { # text paths... → one sha256 over the text and every file's name and content
    local p
    printf '%s\n' "$1"
    shift
    for p in "$@"; do
        if [[ -d "$p" ]]; then
            (cd "$p" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
        else
            sha256sum "$p"
        fi
    done | sha256sum | cut -c1-16
}

debian_tag="$(from_of "$root/backup/Dockerfile")"
python_tag="$(from_of "$root/app/Dockerfile")"
[[ "$debian_tag" == debian:bookworm* ]] \
    || die "backup/Dockerfile starts FROM '$debian_tag'; this script can only make a debian:bookworm* base"
[[ "$python_tag" == python:*bookworm* ]] \
    || die "app/Dockerfile starts FROM '$python_tag'; this script can only make a python:*-bookworm imitation"

# ---- 1. the Debian base: debootstrap minbase, shaped like the official slim image ----------
build_debian_base() {
    local recipe_hash dir
    # The recipe is this function's code (comments left out).
    recipe_hash="$(sed -n '/^build_debian_base()/,/^}/p' "${BASH_SOURCE[0]}" | grep -v '^ *#' | sha256sum | cut -c1-16)"
    if [[ "$force" != 1 && "$(label_of "$debian_tag" org.clinicalbdd.inputs-hash)" == "$recipe_hash" ]]; then
        return 0
    fi
    command -v debootstrap >/dev/null || die "debootstrap missing (scripts/docker-engine.sh installs it)"
    [[ "$(id -u)" == 0 ]] || die "debootstrap needs root"
    dir="$(mktemp -d /tmp/bookworm-rootfs.XXXXXX)"
    # EXIT, not RETURN: die exits without returning. Cleared when the base is imported.
    trap 'rm -rf "$dir"' EXIT
    log "debootstrap --variant=minbase bookworm ($mirror) into $dir"
    debootstrap --variant=minbase bookworm "$dir" "$mirror" >"$dir.log" 2>&1 \
        || { tail -n 30 "$dir.log" >&2; die "debootstrap failed (log: $dir.log)"; }
    rm -f "$dir.log" "$dir/etc/apt/sources.list"
    cat >"$dir/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    # What the official debian images add (debuerreotype): no apt caches, compressed lists,
    # no translations, no docs or man pages in later installs, unsafe-io for speed.
    cat >"$dir/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
    printf 'Acquire::GzipIndexes "true";\n' >"$dir/etc/apt/apt.conf.d/docker-gzip-indexes"
    printf 'Acquire::Languages "none";\n' >"$dir/etc/apt/apt.conf.d/docker-no-languages"
    printf 'Apt::AutoRemove::SuggestsImportant "false";\n' >"$dir/etc/apt/apt.conf.d/docker-autoremove-suggests"
    printf 'force-unsafe-io\n' >"$dir/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
    printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
        'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
        'path-exclude /usr/share/locale/*' >"$dir/etc/dpkg/dpkg.cfg.d/docker"
    rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/archives/*.deb "$dir"/var/log/* \
        "$dir"/usr/share/doc/*/changelog* "$dir"/usr/share/man/* "$dir"/usr/share/info/*
    : >"$dir/etc/resolv.conf"
    printf 'localhost\n' >"$dir/etc/hostname"
    tar --numeric-owner --xattrs -C "$dir" -c . | docker import \
        --change 'CMD ["bash"]' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change "LABEL org.clinicalbdd.inputs-hash=$recipe_hash" \
        --change "LABEL org.clinicalbdd.imitation=false" \
        --change "LABEL org.clinicalbdd.lacks=\"debootstrap minbase of the current bookworm from $mirror, not the dated debuerreotype snapshot; otherwise the same Debian packages and apt/dpkg settings as the official slim image\"" \
        - "$debian_tag" >/dev/null || die "docker import of the bookworm rootfs failed"
    rm -rf "$dir"
    trap - EXIT
    log "imported $debian_tag"
}

# ---- 2. the Dockerfile images, FROM that base -----------------------------------------
# folder → tag
declare -A tag_of=(
    [python]="$python_tag"
    [nginx]="$(pulumi_default nginxImage)"
    [prometheus]="$(pulumi_default prometheusImage)"
    [alertmanager]="$(pulumi_default alertmanagerImage)"
    [grafana]="$(pulumi_default grafanaImage)"
    [node-exporter]="$(pulumi_default nodeExporterImage)"
    [cadvisor]="$(pulumi_default cadvisorImage)"
    [nginx-exporter]="$(pulumi_default nginxExporterImage)"
    [blackbox-exporter]="$(pulumi_default blackboxExporterImage)"
)
order=(python nginx prometheus alertmanager grafana node-exporter cadvisor nginx-exporter blackbox-exporter)
for name in "${order[@]}"; do
    [[ -n "${tag_of[$name]}" ]] || die "no default for the $name image in Pulumi.yaml"
    [[ -f "$images/$name/Dockerfile" ]] || die "missing $images/$name/Dockerfile"
done

build_one() { # name → builds images/<name> as its tag unless the inputs hash matches
    local name="$1" tag="${tag_of[$1]}" base_id hash ctx out
    base_id="$(docker image inspect --format '{{.Id}}' "$debian_tag")"
    if [[ "$name" == python ]]; then
        hash="$(hash_inputs "$base_id" "$images/$name" "$ca_bundle")"
    else
        hash="$(hash_inputs "$base_id" "$images/$name")"
    fi
    if [[ "$force" != 1 && "$(label_of "$tag" org.clinicalbdd.inputs-hash)" == "$hash" ]]; then
        return 0
    fi
    ctx="$(mktemp -d /tmp/image-context.XXXXXX)"
    out="$ctx.log"
    cp -a "$images/$name/." "$ctx/"
    # The machine's CA bundle (it includes the TLS-intercepting proxy's CA) for pip in app/.
    [[ "$name" == python ]] && cp "$ca_bundle" "$ctx/host-ca-certificates.crt"
    log "building $tag ($name)"
    local progress=()
    [[ "$DOCKER_BUILDKIT" == 1 ]] && progress=(--progress=plain)
    local no_cache=()
    [[ "$force" == 1 ]] && no_cache=(--no-cache)
    if ! "${build_cli[@]}" build "${progress[@]}" "${no_cache[@]}" --build-arg "BASE=$debian_tag" \
        --label "org.clinicalbdd.inputs-hash=$hash" -t "$tag" "$ctx" >"$out" 2>&1; then
        tail -n 40 "$out" >&2
        rm -rf "$ctx"
        die "docker build of $tag failed (full log: $out)"
    fi
    rm -rf "$ctx" "$out"
}

start=$SECONDS
build_debian_base
# A few builds at once: most of their time is apt downloading and dpkg unpacking. Each
# build writes its exit status to a file, so no status is lost to job-control races.
status_dir="$(mktemp -d /tmp/build-images-status.XXXXXX)"
trap 'rm -rf "$status_dir"' EXIT
for name in "${order[@]}"; do
    while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
    (
        rc=0
        build_one "$name" || rc=$?
        echo "$rc" >"$status_dir/$name"
    ) &
done
wait
failed=()
for name in "${order[@]}"; do
    [[ "$(cat "$status_dir/$name" 2>/dev/null)" == 0 ]] || failed+=("$name")
done
((${#failed[@]} == 0)) || die "image builds failed: ${failed[*]} (see above)"

report() { # tag → "tag  real|imitation  lacks: …"
    local kind=real
    [[ "$(label_of "$1" org.clinicalbdd.imitation)" == true ]] && kind=imitation
    printf '%-42s %-9s lacks: %s\n' "$1" "$kind" "$(label_of "$1" org.clinicalbdd.lacks)"
}
report "$debian_tag"
for name in "${order[@]}"; do report "${tag_of[$name]}"; done
log "done in $((SECONDS - start))s"
