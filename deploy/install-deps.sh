#!/usr/bin/env bash
#  Installs every build, test and report dependency of darkscope on Debian 12.
#  Idempotent: packages already present are left alone.  Run as root.
set -euo pipefail

packages=(
    build-essential cmake pkg-config git
    libzmq3-dev libczmq-dev libmsgpack-dev libpcap-dev libcmocka-dev zlib1g-dev libmicrohttpd-dev
    clang libclang-rt-14-dev valgrind
    python3 python3-pandas python3-zmq python3-msgpack python3-yaml python3-gensim
    tshark gnuplot-nox time tzdata
    prometheus curl
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages present"
    exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
#  tshark asks whether non-root users may capture; answer no, non-interactively.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
