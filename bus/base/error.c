#include "bus/base/error.h"

const char *wr_strerror(int err)
{
    switch (err) {
    case WR_OK:
        return "success";
    case WR_ENOMEM:
        return "out of memory";
    case WR_EINVAL:
        return "invalid argument";
    case WR_EAGAIN:
        return "would block (back-pressure)";
    case WR_ETIMEDOUT:
        return "timed out";
    case WR_ENOACTOR:
        return "no such actor";
    case WR_EPROTO:
        return "malformed message";
    case WR_ETOOBIG:
        return "message too large";
    case WR_EVERSION:
        return "unsupported protocol version";
    case WR_ETYPE:
        return "unknown message type";
    case WR_EUNREACH:
        return "peer unreachable";
    case WR_ECLOSED:
        return "closed";
    case WR_EIO:
        return "I/O error";
    case WR_ECONFIG:
        return "configuration error";
    case WR_EEXIST:
        return "already exists";
    case WR_ENOTFOUND:
        return "not found";
    case WR_EWRONGNODE:
        return "the node at that endpoint has another id";
    case WR_ESTALE:
        return "deposed: a newer leader leads the cluster";
    case WR_EPERM:
        return "not allowed for the sender's role";
    default:
        return "unknown error";
    }
}
