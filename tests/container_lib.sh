#  tests/container_lib.sh - what the container tests share (sourced after
#  lib.sh, not run): the engine's settings for this kind of host and the
#  Debian 12 base image, made here with debootstrap since no registry is
#  reachable.
#  container_setup: checks the tools, writes $WORK/containers.conf (runc:
#  crun fails here with "cgroups in hybrid mode not supported"; ulimits
#  within the hard limits, which runc refuses to raise; CNI with the dnsname
#  plugin), exits 77 when podman cannot run, and makes sure the images
#  localhost/debian:12 and :12-slim exist: a debootstrap of Debian 12
#  (minbase) cached as a tarball under $CACHE ($DS_CONTAINER_CACHE, default
#  /var/cache/darkscope) so later runs on the same machine skip it.
skip () { echo "SKIP: $*"; exit 77; }
log () { echo "== $(date +%T) $*"; }
CACHE=${DS_CONTAINER_CACHE:-/var/cache/darkscope}

container_setup () {
    local tool nofile base mirror root
    for tool in podman podman-compose debootstrap runc; do
        command -v $tool >/dev/null || fail "$tool missing (deploy/install-deps.sh installs it)"
    done
    mkdir -p "$CACHE"
    chmod 755 "$WORK"
    nofile=$(ulimit -Hn); [ "$nofile" = unlimited ] && nofile=65536
    cat > "$WORK/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=4096:4096"]
[engine]
runtime = "runc"
[network]
network_backend = "cni"
CONF
    export CONTAINERS_CONF="$WORK/containers.conf"
    podman info >"$WORK/podman-info.txt" 2>&1 || skip "podman cannot run here: $(tail -3 "$WORK/podman-info.txt")"

    base="$CACHE/debian-12-minbase.tar"
    if [ ! -s "$base" ]; then
        mirror=$(sed -n 's/^URIs: *\([^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
        log "debootstrap Debian 12 from ${mirror:-http://deb.debian.org/debian} (cached in $base)"
        root="$CACHE/rootfs.$$"
        rm -rf "$root"
        debootstrap --variant=minbase bookworm "$root" "${mirror:-http://deb.debian.org/debian}" \
            >"$WORK/debootstrap.log" 2>&1 || fail "debootstrap: $(tail -3 "$WORK/debootstrap.log")"
        rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
        tar -C "$root" -cf "$base.tmp" . && mv "$base.tmp" "$base"
        rm -rf "$root"
    fi
    if ! podman image exists localhost/debian:12; then
        podman import "$base" localhost/debian:12 >/dev/null || fail "podman import $base"
    fi
    podman tag localhost/debian:12 localhost/debian:12-slim
    podman run --rm localhost/debian:12 true >"$WORK/run-check.txt" 2>&1 \
        || skip "podman cannot start a container here: $(tail -3 "$WORK/run-check.txt")"
}
