#!/usr/bin/env bash
#  make-certs.sh - the CurveZMQ certificates of one darkscope deployment
#  (deploy/compose.yaml, deploy/k8s/darkscope.yaml), made with
#  `darkscope keygen`:
#
#    ingest      the sensors' publishers (every ingest of the deployment)
#    labeler     the labeler (data 5551 and control 5552)
#    aggregator  every aggregator shard
#    query       the query service
#    client      darkscope query / report / the dashboard's users on the host
#
#  Each NAME gets DIR/NAME.cert (public) and DIR/NAME.cert_secret (the key
#  pair, mode 0600).  Run as root, the secret halves are given to uid 10001
#  (the image's `darkscope` user, which reads them from the bind mounts of
#  the compose secrets); --owner UID changes that, --owner '' keeps them the
#  caller's.  Who trusts whom is written in the deployment files:
#  ingest <- labeler <- aggregator, query; aggregator <- query; query <- client.
#
#    bash deploy/make-certs.sh /srv/telescope/certs
#    CERT_DIR=/srv/telescope/certs docker compose -f deploy/compose.yaml up -d
#    kubectl -n darkscope create secret generic darkscope-certs --from-file=/srv/telescope/certs
#
#  Existing files are kept (a deployment's keys are not rotated by
#  accident); --force makes new ones.  `darkscope` is taken from PATH, or
#  from $DARKSCOPE.
set -euo pipefail

usage () { sed -n '2,/^set -e/p' "$0" | sed 's/^#  \{0,1\}//; /^set -e/d'; exit "${1:-0}"; }
dir=""
owner=$([ "$(id -u)" -eq 0 ] && echo 10001 || echo "")
force=0
while [ $# -gt 0 ]; do
    case "$1" in
        --owner) owner="$2"; shift 2 ;;
        --owner=*) owner="${1#*=}"; shift ;;
        --force) force=1; shift ;;
        -h|--help) usage 0 ;;
        -*) echo "make-certs.sh: unknown option $1" >&2; usage 2 >&2 ;;
        *) [ -z "$dir" ] || { echo "make-certs.sh: one directory only" >&2; exit 2; }; dir="$1"; shift ;;
    esac
done
[ -n "$dir" ] || { echo "make-certs.sh: which directory? (make-certs.sh DIR)" >&2; exit 2; }
keygen=${DARKSCOPE:-darkscope}
command -v "$keygen" >/dev/null || { echo "make-certs.sh: $keygen not found (PATH, or DARKSCOPE=...)" >&2; exit 1; }
mkdir -p "$dir"
for name in ingest labeler aggregator query client; do
    if [ -s "$dir/$name.cert" ] && [ -s "$dir/$name.cert_secret" ] && [ "$force" = 0 ]; then
        echo "kept    $dir/$name.cert"
    else
        rm -f "$dir/$name.cert" "$dir/$name.cert_secret"
        "$keygen" keygen "$name" --dir "$dir"
        echo "made    $dir/$name.cert"
    fi
    [ -z "$owner" ] || chown "$owner" "$dir/$name.cert_secret"
    chmod 600 "$dir/$name.cert_secret"
    chmod 644 "$dir/$name.cert"
done
echo "the host's clients: darkscope query --cert $dir/client.cert --endpoint tcp://127.0.0.1:5570@$dir/query.cert status"
