#include "bus/msgtypes.h"

#include <stddef.h>
#include <string.h>

#include "bus/base/error.h"

static const struct {
    int type;
    const char *name;
} s_types[] = {
#define WR__MSG_ROW(num, name, wire, decl, doc) {num, wire},
    WR_MSG_TYPES(WR__MSG_ROW)
#undef WR__MSG_ROW
};

const char *wr_msg_type_name(int type)
{
    switch (type) {
#define WR__MSG_CASE(num, name, wire, decl, doc)                                                   \
    case num:                                                                                      \
        return wire;
        WR_MSG_TYPES(WR__MSG_CASE)
#undef WR__MSG_CASE
    default:
        return wr_msg_type_is_local(type) ? "local" : NULL;
    }
}

bool wr_msg_type_is_wire(int type)
{
    switch (type) {
#define WR__MSG_CASE(num, name, wire, decl, doc) case num:
        WR_MSG_TYPES(WR__MSG_CASE)
#undef WR__MSG_CASE
        return true;
    default:
        return false;
    }
}

bool wr_msg_type_is_local(int type)
{
    return type >= WR_MSG_LOCAL_FIRST && type <= WR_MSG_LOCAL_LAST;
}

int wr_msg_type_from_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof s_types / sizeof s_types[0]; i++)
        if (strcmp(s_types[i].name, name) == 0) return s_types[i].type;
    return WR_ETYPE;
}
