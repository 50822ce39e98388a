#!/bin/sh
# The CURVE keys of a weir cluster on Kubernetes, as three Secrets on stdout:
#   weir-keys-public  every node's and the admin's public certificate (mounted by every pod)
#   weir-keys-secret  every JobManager's and TaskManager's secret key (each pod's init container
#                     copies its own, by its pod name, and its container sees only that one)
#   weir-keys-admin   the admin client's secret key and REST token (for the pod weir-cli)
#   weir-keys-rest    the REST API's list of tokens (the JobManagers': who may act)
#
#   sh deploy/k8s/keys.sh [JOBMANAGERS [TASKMANAGERS]] > weir-keys.yaml   # default 2 and 2
#   kubectl apply -f weir-keys.yaml && rm weir-keys.yaml
#
# The node ids are the StatefulSets' pod names: weir-jobmanager-0 .. JOBMANAGERS-1 and
# weir-taskmanager-0 .. TASKMANAGERS-1. `weir keygen` (WEIR: the binary, default weir) makes them
# in KEYS_DIR (default ./weir-k8s-keys), keeping those that exist: run it again with more
# TaskManagers before scaling up. Keep KEYS_DIR somewhere safe, or remove it once applied.
set -eu
jobmanagers=${1:-2}
taskmanagers=${2:-2}
weir=${WEIR:-weir}
dir=${KEYS_DIR:-./weir-k8s-keys}

set -- --keys-dir "$dir" --admin admin
i=0
while [ "$i" -lt "$jobmanagers" ]; do set -- "$@" --jobmanager "weir-jobmanager-$i"; i=$((i + 1)); done
i=0
while [ "$i" -lt "$taskmanagers" ]; do set -- "$@" --taskmanager "weir-taskmanager-$i"; i=$((i + 1)); done
"$weir" keygen "$@" >&2

# A Secret of the files given (each a key named as the file), in base64 as Kubernetes wants.
secret() {
    name=$1
    shift
    printf -- '---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n' "$name"
    printf '  labels:\n    app.kubernetes.io/part-of: weir\ntype: Opaque\ndata:\n'
    for f in "$@"; do
        printf '  %s: %s\n' "$(basename "$f")" "$(base64 -w0 < "$f")"
    done
}
secret weir-keys-public "$dir"/public/*
secret weir-keys-secret "$dir"/secret/weir-jobmanager-*_secret "$dir"/secret/weir-taskmanager-*_secret
secret weir-keys-admin "$dir"/secret/admin_secret "$dir"/secret/admin.rest-token
secret weir-keys-rest "$dir"/rest-tokens
