#!/bin/sh
# Installs every Debian 12 package that building, running and testing weir need.
# Idempotent: when everything is present it only checks, and returns in well under a second.
# Run as root (or through sudo). apt packages only; nothing is downloaded from anywhere else.
set -eu

PACKAGES="
gcc libc6-dev pkg-config scons clang-format
clang libclang-rt-14-dev
libczmq-dev libzmq3-dev libmsgpack-dev librdkafka-dev librocksdb-dev
libcurl4-openssl-dev libyaml-dev libcmocka-dev libmicrohttpd-dev
libmosquitto-dev libhiredis-dev
mosquitto mosquitto-clients redis-server redis-tools influxdb influxdb-client curl
etcd-server etcd-client
prometheus
systemd
kcat
tmux
chromium fonts-dejavu-core
ansible-core python3-apt
"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "install-deps: all packages present"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=sudo
    else
        echo "install-deps: missing:$missing; run this script as root" >&2
        exit 1
    fi
else
    SUDO=
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
echo "install-deps: done"
