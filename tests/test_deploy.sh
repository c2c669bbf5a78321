#  test_deploy.sh - the deployment files (deploy/compose.yaml,
#  deploy/k8s/darkscope.yaml) parse, name only real flags, and their
#  topologies, run as plain processes with the same environment, give the
#  overview of `darkscope run` byte for byte (deploy/check-deploy.py).
source "$(dirname "$0")/lib.sh"
$PY "$DS_SOURCE/deploy/check-deploy.py" "$DS_BIN" || fail "deploy/check-deploy.py"
echo "1 passed, 0 failed"
