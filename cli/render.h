/* Human-readable rendering of the inspection replies (see actors/runtime/inspect.h for their shape).
 * Input comes from the network: malformed input is reported, never trusted. */
#ifndef WR_RENDER_H
#define WR_RENDER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Prints the actor table of an ACTORS_REPLY payload. Returns 0 or WR_EPROTO. */
int wr_render_actors(const uint8_t *buf, size_t len, FILE *out);
/* Prints a MAILBOX_REPLY payload: statistics, then the recent messages with decoded payloads. */
int wr_render_mailbox(const uint8_t *buf, size_t len, FILE *out);

/* JOBS_REPLY: one line per job. */
int wr_render_jobs(const uint8_t *buf, size_t len, FILE *out);
/* JOB_REPLY: the job, then a line per operator. */
int wr_render_job(const uint8_t *buf, size_t len, FILE *out);

#endif
