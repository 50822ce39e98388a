/* weir bench kafka: weir's Kafka source, a window and weir's Kafka sink end to end, against a raw
 * librdkafka consume of the same topic, on librdkafka's mock cluster in this process (issue 14's
 * benchmark; cli/bench_kafka.c says what it runs and measures). */
#ifndef WR_BENCH_KAFKA_H
#define WR_BENCH_KAFKA_H

/* `weir bench kafka ...` (argv[0] = "weir bench kafka"). Returns an exit code: 0 when both runs
 * were measured and checked (whether or not the goal was met), 1 when one failed or its results do
 * not add up (saying why), 2 for bad options, 128 + the signal when SIGINT or SIGTERM stopped it.
 */
int wr_bench_kafka(int argc, char **argv);

#endif
