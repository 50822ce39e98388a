/* Human-readable rendering of the replies the CLI shows (decoded: bus/messages.h; their shape:
 * actors/runtime/inspect.h and the declarations). */
#ifndef WR_RENDER_H
#define WR_RENDER_H

#include <stdio.h>

#include "bus/messages.h"

/* The actor table of an ACTORS_REPLY, then a line per node. */
void wr_render_actors(const wr_msg_actors_reply_t *r, FILE *out);
/* A MAILBOX_REPLY: statistics, then the recent messages with their payloads decoded (with the field
 * names of their declarations). WR_ENOMEM or 0. */
int wr_render_mailbox(const wr_msg_mailbox_reply_t *r, FILE *out);

/* JOBS_REPLY: one line per job. */
void wr_render_jobs(const wr_msg_jobs_reply_t *r, FILE *out);
/* JOB_REPLY: a line per operator, then the job. */
void wr_render_job(const wr_msg_job_reply_t *r, FILE *out);
/* CKPT_LIST_REPLY: the job, a line per checkpoint, the latest completed one. */
void wr_render_checkpoints(const wr_msg_ckpt_list_reply_t *r, FILE *out);

/* The JSON of a reply as it came (one line), for --json: its keys are the declarations' MAP field
 * names. WR_EPROTO or WR_ENOMEM (nothing printed), else 0. */
int wr_render_json(const wr_msg_t *reply, FILE *out);

#endif
