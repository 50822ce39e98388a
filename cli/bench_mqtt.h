/* weir bench mqtt: weir's MQTT source into a window, against mosquitto_sub alone reading the same
 * messages from the same broker (issue 16's benchmark; cli/bench_mqtt.c says what it runs and
 * measures). */
#ifndef WR_BENCH_MQTT_H
#define WR_BENCH_MQTT_H

/* `weir bench mqtt ...` (argv[0] = "weir bench mqtt"). Returns an exit code: 0 when both runs were
 * measured and weir read every record (whether or not the goal was met), 1 when one failed (saying
 * why), 2 for bad options. */
int wr_bench_mqtt(int argc, char **argv);

#endif
