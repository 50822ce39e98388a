/* weir error codes: every fallible function returns 0 on success or one of these (negative). */
#ifndef WR_ERROR_H
#define WR_ERROR_H

enum {
    WR_OK = 0,
    WR_ENOMEM = -1,      /* allocation failed */
    WR_EINVAL = -2,      /* bad argument (our caller's bug, or a user value) */
    WR_EAGAIN = -3,      /* back-pressure: full mailbox or no credit; try again later */
    WR_ETIMEDOUT = -4,   /* no answer within the deadline */
    WR_ENOACTOR = -5,    /* no actor at that address (never existed or stopped) */
    WR_EPROTO = -6,      /* malformed message: truncated, wrong-typed, trailing bytes */
    WR_ETOOBIG = -7,     /* message or field over its size limit */
    WR_EVERSION = -8,    /* unknown protocol version */
    WR_ETYPE = -9,       /* unknown message type */
    WR_EUNREACH = -10,   /* peer node not connected */
    WR_ECLOSED = -11,    /* the node, mailbox or channel is shut down */
    WR_EIO = -12,        /* operating-system or library I/O failure; errno says more */
    WR_ECONFIG = -13,    /* bad configuration value or unknown key */
    WR_EEXIST = -14,     /* name already taken */
    WR_ENOTFOUND = -15,  /* no such file, key or entry */
    WR_EWRONGNODE = -16, /* the node at the peer's endpoint has another id than the peer's */
    WR_ESTALE = -17,     /* fenced out: a newer leader (a higher epoch) leads the cluster */
    WR_EPERM = -18       /* the sender's key (its role) may not do this */
};

/* Short human-readable text for a WR_E* code; never NULL. */
const char *wr_strerror(int err);

#endif
