#!/bin/bash
# The seed's production stack on one machine, for examples/iot-production.yaml: mosquitto (MQTT),
# redis-server and influxd (InfluxDB 1.x), all from Debian packages (deploy/install-deps.sh), on
# 127.0.0.1 only, their data in one folder. Runs in the foreground until Ctrl-C (or SIGTERM), then
# stops the three by pid and leaves the folder for a look.
#
#   deploy/iot-stack.sh                      # ports 1883, 6379, 8086 (+ 8088 for influxd's RPC)
#   MQTT_PORT=11883 REDIS_PORT=16379 INFLUX_PORT=18086 INFLUX_RPC_PORT=18088 deploy/iot-stack.sh
#   IOT_DIR=/tmp/my-stack deploy/iot-stack.sh
#
# It creates the InfluxDB database `iot` (INFLUX_DB) that the example writes into. No service of
# the machine is touched: every server runs as this user, from its own configuration file.
set -eu

MQTT_PORT=${MQTT_PORT:-1883}
REDIS_PORT=${REDIS_PORT:-6379}
INFLUX_PORT=${INFLUX_PORT:-8086}
INFLUX_RPC_PORT=${INFLUX_RPC_PORT:-8088}
INFLUX_DB=${INFLUX_DB:-iot}
DIR=${IOT_DIR:-/tmp/weir-iot-stack}

for bin in /usr/sbin/mosquitto /usr/bin/redis-server /usr/bin/influxd /usr/bin/curl; do
    if [ ! -x "$bin" ]; then
        echo "iot-stack: no $bin: run deploy/install-deps.sh (as root)" >&2
        exit 1
    fi
done
for port in "$MQTT_PORT" "$REDIS_PORT" "$INFLUX_PORT" "$INFLUX_RPC_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "iot-stack: 127.0.0.1:$port is taken: choose other ports (see the top of $0)" >&2
        exit 1
    fi
done

mkdir -p "$DIR/mosquitto" "$DIR/redis" "$DIR/influxdb"
pids=""
stop() {
    trap - INT TERM EXIT
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    for pid in $pids; do wait "$pid" 2>/dev/null || true; done
    echo "iot-stack: stopped; logs and data in $DIR"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cat > "$DIR/mosquitto/mosquitto.conf" <<EOF
# as the user that runs this script (started as root, mosquitto would switch to user mosquitto,
# who may not reach the folder)
user $(id -un)
listener $MQTT_PORT 127.0.0.1
allow_anonymous true
persistence true
persistence_location $DIR/mosquitto/
# a subscriber away (a weir subtask restarting) finds what came meanwhile: far above the 1000
# messages mosquitto keeps by default
max_queued_messages 1000000
log_dest file $DIR/mosquitto/mosquitto.log
log_type error
log_type warning
log_type notice
log_type information
log_type subscribe
EOF
/usr/sbin/mosquitto -c "$DIR/mosquitto/mosquitto.conf" &
pids="$pids $!"
mqtt_pid=$!

/usr/bin/redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$DIR/redis" \
    --save "" --appendonly no --logfile "$DIR/redis/redis.log" &
pids="$pids $!"
redis_pid=$!

cat > "$DIR/influxdb/influxdb.conf" <<EOF
reporting-disabled = true
bind-address = "127.0.0.1:$INFLUX_RPC_PORT"
[meta]
  dir = "$DIR/influxdb/meta"
[data]
  dir = "$DIR/influxdb/data"
  wal-dir = "$DIR/influxdb/wal"
  query-log-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:$INFLUX_PORT"
  log-enabled = false
EOF
/usr/bin/influxd -config "$DIR/influxdb/influxdb.conf" > "$DIR/influxdb/influxd.log" 2>&1 &
pids="$pids $!"
influx_pid=$!

# Each answers within 60 s, or the stack stops and says which did not, with the end of its log
# (one that exits, e.g. its port taken meanwhile, stops the wait at once).
up() { # NAME: whether that server answers
    case $1 in
    mosquitto) (exec 3<>"/dev/tcp/127.0.0.1/$MQTT_PORT") 2>/dev/null ;;
    redis-server) (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null ;;
    influxd) curl -fs -o /dev/null "http://127.0.0.1:$INFLUX_PORT/ping" ;;
    esac
}
failed() { # NAME PID LOG WHY
    echo "iot-stack: $1 (pid $2) $4; the end of $3:" >&2
    tail -n 5 "$3" >&2 2>/dev/null || true
    exit 1
}
waiting="mosquitto:$mqtt_pid:$DIR/mosquitto/mosquitto.log"
waiting="$waiting redis-server:$redis_pid:$DIR/redis/redis.log"
waiting="$waiting influxd:$influx_pid:$DIR/influxdb/influxd.log"
i=0
while [ -n "$waiting" ]; do
    left=""
    for w in $waiting; do
        name=${w%%:*} rest=${w#*:}
        pid=${rest%%:*} log=${rest#*:}
        up "$name" && continue
        kill -0 "$pid" 2>/dev/null || failed "$name" "$pid" "$log" "exited"
        [ "$i" -lt 600 ] || failed "$name" "$pid" "$log" "did not answer within 60 s"
        left="$left $w"
    done
    waiting=${left# }
    i=$((i + 1))
    [ -z "$waiting" ] || sleep 0.1
done
curl -fs -o /dev/null -XPOST "http://127.0.0.1:$INFLUX_PORT/query" \
    --data-urlencode "q=CREATE DATABASE \"$INFLUX_DB\""

echo "iot-stack: running until Ctrl-C (data and logs in $DIR)"
echo "  mqtt     127.0.0.1:$MQTT_PORT"
echo "  redis    127.0.0.1:$REDIS_PORT"
echo "  influxdb http://127.0.0.1:$INFLUX_PORT (database $INFLUX_DB)"
wait
