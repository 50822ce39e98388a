#include "actors/dataflow/record/schema.h"

#include <string.h>
#include <strings.h>

#include "bus/base/error.h"

static const char *const s_type_names[] = {"int", "double", "bool", "time", "string"};

static const struct {
    const char *name;
    enum wr_type type;
} s_aliases[] = {
    {"int", WR_T_INT},       {"long", WR_T_INT},     {"int64", WR_T_INT},
    {"double", WR_T_DOUBLE}, {"float", WR_T_DOUBLE}, {"float64", WR_T_DOUBLE},
    {"bool", WR_T_BOOL},     {"time", WR_T_TIME},    {"timestamp", WR_T_TIME},
    {"string", WR_T_STRING}, {"str", WR_T_STRING},
};

static bool s_type_valid(enum wr_type t)
{
    return (unsigned)t <= (unsigned)WR_T_STRING;
}

void wr_schema_init(wr_schema_t *s)
{
    memset(s, 0, sizeof *s);
}

bool wr_field_name_valid(const char *name)
{
    if (!name) return false;
    size_t n = 0;
    for (const char *p = name; *p; p++, n++) {
        char c = *p;
        bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        if (!alpha && !(n > 0 && c >= '0' && c <= '9')) return false;
    }
    return n > 0 && n < WR_FIELD_NAME_MAX;
}

int wr_schema_add(wr_schema_t *s, const char *name, enum wr_type type)
{
    if (!wr_field_name_valid(name) || !s_type_valid(type)) return WR_EINVAL;
    if (wr_schema_find(s, name) >= 0) return WR_EEXIST;
    if (s->n >= WR_SCHEMA_MAX_FIELDS) return WR_ETOOBIG;
    wr_field_t *f = &s->f[s->n++];
    memset(f->name, 0, sizeof f->name);
    strcpy(f->name, name);
    f->type = type;
    return 0;
}

int wr_schema_find(const wr_schema_t *s, const char *name)
{
    for (uint32_t i = 0; i < s->n; i++)
        if (strcmp(s->f[i].name, name) == 0) return (int)i;
    return -1;
}

bool wr_schema_equal(const wr_schema_t *a, const wr_schema_t *b)
{
    if (a->n != b->n) return false;
    for (uint32_t i = 0; i < a->n; i++)
        if (a->f[i].type != b->f[i].type || strcmp(a->f[i].name, b->f[i].name) != 0) return false;
    return true;
}

const char *wr_type_name(enum wr_type t)
{
    return s_type_valid(t) ? s_type_names[t] : "?";
}

int wr_type_parse(const char *name, enum wr_type *t)
{
    for (size_t i = 0; name && i < sizeof s_aliases / sizeof s_aliases[0]; i++) {
        if (strcasecmp(name, s_aliases[i].name) == 0) {
            *t = s_aliases[i].type;
            return 0;
        }
    }
    return WR_EINVAL;
}

int wr_schema_pack(const wr_schema_t *s, msgpack_packer *pk)
{
    int rc = msgpack_pack_array(pk, s->n);
    for (uint32_t i = 0; rc == 0 && i < s->n; i++) {
        rc = msgpack_pack_array(pk, 2);
        if (rc == 0) rc = wr_pack_str(pk, s->f[i].name);
        if (rc == 0) rc = wr_pack_str(pk, wr_type_name(s->f[i].type));
    }
    return rc == 0 ? 0 : WR_ENOMEM;
}

int wr_schema_unpack(wr_mp_reader_t *r, wr_schema_t *s)
{
    wr_schema_t tmp;
    wr_schema_init(&tmp);
    uint32_t n = 0, pair = 0;
    if (wr_mp_read_array(r, &n) != 0) return WR_EPROTO;
    if (n > WR_SCHEMA_MAX_FIELDS) goto proto;
    for (uint32_t i = 0; i < n; i++) {
        char name[WR_FIELD_NAME_MAX], type[16];
        enum wr_type t;
        if (wr_mp_read_array(r, &pair) != 0 || pair != 2) goto proto;
        if (wr_mp_read_str_copy(r, name, sizeof name) != 0) goto proto;
        if (wr_mp_read_str_copy(r, type, sizeof type) != 0) goto proto;
        if (wr_type_parse(type, &t) != 0 || wr_schema_add(&tmp, name, t) != 0) goto proto;
    }
    *s = tmp;
    return 0;
proto:
    if (!r->err) r->err = WR_EPROTO;
    return WR_EPROTO;
}
