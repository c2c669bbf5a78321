#!/usr/bin/env bash
#  Installs every build, test and report dependency of darkscope on Debian 12.
#  Idempotent: packages already present are left alone.  Run as root.
#  --build: only what compiling needs (deploy/Dockerfile's build stage; the
#  dashboard's npm files then come with the source, see below).
set -euo pipefail

build_only=false
[ "${1:-}" = "--build" ] && build_only=true

packages=(
    build-essential cmake pkg-config git
    libzmq3-dev libczmq-dev libmsgpack-dev libpcap-dev libcmocka-dev zlib1g-dev libmicrohttpd-dev
    clang libclang-rt-14-dev valgrind
    python3 python3-pandas python3-zmq python3-msgpack python3-yaml python3-gensim
    tshark gnuplot-nox time tzdata
    prometheus curl chromium
    podman podman-compose runc containernetworking-plugins debootstrap golang-github-containernetworking-plugin-dnsname
)
if $build_only; then
    packages=(build-essential cmake pkg-config
              libzmq3-dev libczmq-dev libmsgpack-dev libpcap-dev zlib1g-dev libmicrohttpd-dev)
fi

#  npm for the dashboard's charting library: Debian's, unless a Node.js with
#  its own npm is installed already.
$build_only || command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages present"
else
    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    #  tshark asks whether non-root users may capture; answer no, non-interactively.
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

$build_only && exit 0
#  From the npm registry, the versions pinned in each package-lock.json:
#  the dashboard's charting library (Apache ECharts) and the Kubernetes API
#  schemas the manifests are validated with (kubernetes-models).
root="$(cd "$(dirname "$0")/.." && pwd)"
for dir in services/query/web:echarts deploy/k8s/validate:kubernetes-models; do
    web="$root/${dir%%:*}"
    if [ -f "$web/package-lock.json" ] && [ ! -d "$web/node_modules/${dir##*:}" ]; then
        (cd "$web" && npm ci --ignore-scripts --no-audit --no-fund --prefer-offline)
    fi
done
