/* The payload codec: every message payload is declared once, as a list of typed fields, and both
 * ends pack and unpack it with the one table-driven codec made from that declaration, so they agree
 * by construction (czmq's zproto does this with generated code; here the C preprocessor makes a C
 * struct and a descriptor table from the same list, and this file walks the table).
 *
 * Declaring a payload (bus/messages.h holds every declaration of the bus)
 *
 *     #define WR_MSG_FIELDS_credit(F)  \
 *         F(U64, channel, , )          \
 *         F(U32, credits, , )
 *
 * lists the fields in wire order: F(KIND, name, a, b), a and b as the kind wants (table below),
 * empty otherwise. The declaration `credit` then makes, by the macros at the end of this file:
 *   wr_msg_credit_t       typedef struct { uint64_t channel; uint64_t granted; }
 *   wr_msg_credit_list_t  typedef struct { wr_msg_credit_t *v; uint32_t n; } (a LIST of them)
 *   wr_msg_credit_decl    the descriptor: encoding (below), field names, kinds, offsets, sizes
 * and typed wrappers (wr_msg_credit_pack, _decode, _unpack, _new, _release: bus/messages.h).
 *
 * Field kinds              C member              on the wire
 *   BOOL                   bool                  true / false
 *   U32, U64               uint32_t, uint64_t    an integer in range, in any msgpack encoding;
 *   I32, I64               int32_t, int64_t        written in the shortest one (msgpack-c's)
 *   F64                    double                written float64; read from float32/64 or an int
 *   STR    a = capacity    char[a]               a str shorter than a bytes with no NUL, copied in
 *                                                  (NUL-terminated)
 *   STRV                   wr_strv_t             a str with no NUL, borrowed
 *   BIN                    wr_bytes_t            a bin, borrowed
 *   BINSTR                 wr_binstr_t           a bin, or a str (no NUL) when .str, borrowed
 *   RAW                    wr_bytes_t            one whole msgpack object of any kind (a nested
 *                                                  format this layer does not know: a topology, a
 *                                                  sampled payload), borrowed; well-formed
 *   OPAQUE                 wr_bytes_t            the whole payload, any bytes at all (PING); only
 *                                                  as the one field of a BARE declaration
 *   STRUCT a = declaration wr_msg_<a>_t          declaration a, nested, encoded as a says
 *   LIST   a = declaration wr_msg_<a>_list_t     an array of at most b elements of declaration a
 *          b = most
 *   DICT   a, b as LIST    wr_msg_<a>_list_t     a map of at most b entries, no key twice: a's
 *                                                  first field (STR or STRV) is the key, its
 *                                                  second the value (`types: {name: count}`)
 *   OPT_<kind>             as <kind>             may be left out: see below (BOOL, U32, U64, I64,
 *                                                  STR, STRV, BIN, RAW)
 *   WITH_<kind>            as <kind>             goes with the field before it (an OPT_ or WITH_
 *                                                  one): written exactly when that one is, even
 *                                                  when it holds zero itself (U32); `weir actors`'
 *                                                  slots_free of a TaskManager's row
 *   FIX_<kind>             as <kind>             written in fixed width (U32: uint32 0xce, U64:
 *                                                  uint64 0xcf, BIN: bin32), read as <kind>: for
 *                                                  headers written before their values are known
 *                                                  (DATA_BATCH, bus/channel.h)
 *
 * Struct encodings (the second argument of WR_PROTO_DESCRIBE)
 *   ARRAY  positional: [field, field, ...]; the names only serve humans (peeks, logs). Most
 *          requests and bus-internal messages.
 *   MAP    {"name": value, ...} with the field names as keys: the replies the CLI shows, whose
 *          keys `--json` prints. Written in declaration order; read in any order, but a key that
 *          is not a field, a key twice or a missing (not OPT) field is malformed.
 *   BARE   the struct's one field is the payload itself (ACTORS_REPLY is a bare list of node rows;
 *          PING's payload is OPAQUE). With no field at all, the payload is empty (STOP, TIMEOUT,
 *          the requests without arguments); reading also accepts a payload of one nil.
 * Optional fields (OPT_): in a MAP, a field that holds its zero value ("", 0, false, a view whose
 * pointer is NULL) is left out, and an absent one reads as zero. In an ARRAY, the fields from the
 * first OPT_ one on are an optional tail: written all together when any of them is not zero, left
 * out together otherwise, and read as all or none (JOB_SUBMIT: [topology] or [topology, restore,
 * parallelism]). A WITH_ field is there exactly when the field before it is: a MAP without one
 * but with the other is malformed, and so is one that holds a value while the field it goes with
 * holds zero (the encoder refuses that struct: it would not read back).
 *
 * Ownership
 *   Decoding fills the caller's struct (which it zeroes first). STR fields are copies. STRV, BIN,
 *   BINSTR, RAW and OPAQUE fields are views into the decoded buffer: valid while it is (for a
 *   message, until wr_msg_destroy). LIST and DICT elements are one array the decoder allocates
 *   (NULL for none); wr_proto_release frees them (every level) and zeroes the list. Release is safe
 *   on a zeroed struct and after a failed decode, and must follow every successful decode of a
 *   declaration with lists (it is a no-op for the others, so calling it always is fine).
 *   Encoding reads the caller's struct and the memory its views and lists point to, and allocates
 *   nothing but its output.
 *
 * Failures (decoding input from the network never asserts and never reads outside the buffer)
 *   decode  WR_EPROTO  malformed: truncated; a wrong type; a number out of its kind's range; a
 *                      field missing, extra, unknown or twice; bytes after the payload; a NUL
 *                      in a string; a RAW that is not one well-formed object; a WITH_ field
 *                      without the field it goes with, or the reverse, or with a value while
 *                      that field holds zero
 *           WR_ETOOBIG a STR that does not fit its capacity; a LIST or DICT over its most
 *           WR_ENOMEM  a list's elements could not be allocated
 *           On failure the struct holds nothing (zeroed; nothing to release).
 *   encode  WR_EINVAL  the struct breaks its declaration: a STR without a NUL within its
 *                      capacity, a NUL inside a STRV or BINSTR string, a RAW that is not one
 *                      msgpack object, a list with elements but no array, a DICT with a key
 *                      twice, a WITH_ field that holds a value while the field it goes with
 *                      is left out
 *           WR_ETOOBIG a LIST or DICT over its most, a string or bytes over 2^32-1
 *           WR_ENOMEM  the output could not grow
 *           wr_proto_pack leaves its buffer as it was on failure.
 * Every declaration is exercised by tests/test_proto.c (round trips, each kind of malformed input)
 * and by the fuzz target tests/fuzz/fuzz_messages.c. */
#ifndef WR_PROTO_H
#define WR_PROTO_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bus/base/strbuf.h"

/* A borrowed string: len bytes at s, not NUL-terminated. */
typedef struct {
    const char *s;
    size_t len;
} wr_strv_t;

/* A borrowed run of bytes. */
typedef struct {
    const uint8_t *p;
    size_t len;
} wr_bytes_t;

/* Borrowed bytes that travel as a str (str = true) or a bin. */
typedef struct {
    const uint8_t *p;
    size_t len;
    bool str;
} wr_binstr_t;

/* The view of a C string (NULL: an empty one), for encoding. */
static inline wr_strv_t wr_strv(const char *s)
{
    return (wr_strv_t){s ? s : "", s ? strlen(s) : 0};
}

/* Whether v holds exactly the text s. */
static inline bool wr_strv_eq(wr_strv_t v, const char *s)
{
    return v.len == strlen(s) && (v.len == 0 || memcmp(v.s, s, v.len) == 0);
}

enum wr_proto_kind {
    WR_PK_BOOL,
    WR_PK_U32,
    WR_PK_U64,
    WR_PK_I32,
    WR_PK_I64,
    WR_PK_F64,
    WR_PK_STR,
    WR_PK_STRV,
    WR_PK_BIN,
    WR_PK_BINSTR,
    WR_PK_RAW,
    WR_PK_OPAQUE,
    WR_PK_STRUCT,
    WR_PK_LIST,
    WR_PK_DICT
};

#define WR_PF_OPT  1u /* OPT_: may be left out */
#define WR_PF_FIX  2u /* FIX_: written in fixed width */
#define WR_PF_WITH 4u /* WITH_: present exactly when the field before it is (with WR_PF_OPT) */

enum wr_proto_enc { WR_PROTO_ARRAY, WR_PROTO_MAP, WR_PROTO_BARE };

struct wr_proto_struct;

/* One field of a declaration. */
typedef struct {
    const char *name;
    uint8_t kind;  /* enum wr_proto_kind */
    uint8_t flags; /* WR_PF_* */
    uint32_t offset;
    uint32_t size; /* STR: capacity, NUL included; LIST, DICT: most elements; else 0 */
    const struct wr_proto_struct *sub; /* STRUCT, LIST, DICT: the element declaration */
} wr_proto_field_t;

/* A declaration: what the codec walks. */
typedef struct wr_proto_struct {
    const char *name;
    uint8_t enc; /* enum wr_proto_enc */
    uint32_t nfields;
    size_t size; /* sizeof its C struct */
    const wr_proto_field_t *fields;
} wr_proto_struct_t;

/* Appends the encoding of *p (a struct of declaration d) to out. 0, or a failure above with out
 * as it was. */
int wr_proto_pack(const wr_proto_struct_t *d, const void *p, msgpack_sbuffer *out);
/* The same through any packer (into the middle of a bigger structure); on failure the packer may
 * hold part of it. */
int wr_proto_encode(const wr_proto_struct_t *d, const void *p, msgpack_packer *pk);
/* For in-place writers: encodes *p up to the last field, which must be a BIN, and of that only the
 * header announcing its len bytes, into buf (cap bytes); *len is the header's size, and the bin's
 * bytes go right after it. With FIX_ fields only, that size is the same for every value.
 * WR_ETOOBIG when it does not fit in cap, WR_EINVAL when d does not end with a BIN. */
int wr_proto_encode_head(const wr_proto_struct_t *d, const void *p, uint8_t *buf, size_t cap,
                         size_t *len);
/* Decodes len bytes at buf (NULL when len is 0), a whole payload of declaration d, into *p
 * (sizeof: d->size). 0 or a failure above (*p then zeroed). Views in *p point into buf. */
int wr_proto_decode(const wr_proto_struct_t *d, const void *buf, size_t len, void *p);
/* Frees the lists a decode allocated in *p, at every level, and zeroes them. NULL-safe. */
void wr_proto_release(const wr_proto_struct_t *d, void *p);
/* Whether len bytes at p are exactly one well-formed msgpack object (what a RAW field holds). */
bool wr_proto_one_object(const uint8_t *p, size_t len);
/* Appends *p as msgpack with every struct written as a map with its field names (ARRAY ones too):
 * the form for humans, which wr_mp_to_json (bus/json.h) turns into JSON with field names. Fails as
 * wr_proto_pack. */
int wr_proto_pack_named(const wr_proto_struct_t *d, const void *p, msgpack_sbuffer *out);

/* ---- declaring (see the top of this file) ---- */

/* The C member of a field. */
#define WR_PROTO_MEMBER(kind, name, a, b) WR__PM_##kind(name, a)
#define WR__PM_BOOL(n, a)                 bool n;
#define WR__PM_OPT_BOOL(n, a)             bool n;
#define WR__PM_U32(n, a)                  uint32_t n;
#define WR__PM_OPT_U32(n, a)              uint32_t n;
#define WR__PM_FIX_U32(n, a)              uint32_t n;
#define WR__PM_WITH_U32(n, a)             uint32_t n;
#define WR__PM_U64(n, a)                  uint64_t n;
#define WR__PM_OPT_U64(n, a)              uint64_t n;
#define WR__PM_FIX_U64(n, a)              uint64_t n;
#define WR__PM_I32(n, a)                  int32_t n;
#define WR__PM_I64(n, a)                  int64_t n;
#define WR__PM_OPT_I64(n, a)              int64_t n;
#define WR__PM_F64(n, a)                  double n;
#define WR__PM_STR(n, a)                  char n[a];
#define WR__PM_OPT_STR(n, a)              char n[a];
#define WR__PM_STRV(n, a)                 wr_strv_t n;
#define WR__PM_OPT_STRV(n, a)             wr_strv_t n;
#define WR__PM_BIN(n, a)                  wr_bytes_t n;
#define WR__PM_OPT_BIN(n, a)              wr_bytes_t n;
#define WR__PM_FIX_BIN(n, a)              wr_bytes_t n;
#define WR__PM_BINSTR(n, a)               wr_binstr_t n;
#define WR__PM_RAW(n, a)                  wr_bytes_t n;
#define WR__PM_OPT_RAW(n, a)              wr_bytes_t n;
#define WR__PM_OPAQUE(n, a)               wr_bytes_t n;
#define WR__PM_STRUCT(n, a)               wr_msg_##a##_t n;
#define WR__PM_LIST(n, a)                 wr_msg_##a##_list_t n;
#define WR__PM_DICT(n, a)                 wr_msg_##a##_list_t n;

/* The types of declaration decl, whose fields WR_MSG_FIELDS_<decl>(F) lists. */
#define WR_PROTO_TYPES(decl)                                                                       \
    typedef struct {                                                                               \
        WR_MSG_FIELDS_##decl(WR_PROTO_MEMBER)                                                      \
    } wr_msg_##decl##_t;                                                                           \
    typedef struct {                                                                               \
        wr_msg_##decl##_t *v;                                                                      \
        uint32_t n;                                                                                \
    } wr_msg_##decl##_list_t;                                                                      \
    extern const wr_proto_struct_t wr_msg_##decl##_decl;

/* The descriptor row of a field of the struct type WR_PROTO_T (defined by the includer). */
#define WR_PROTO_ROW(kind, name, a, b) WR__PR_##kind(name, a, b)
#define WR__PR(n, kind, flags, size, sub)                                                          \
    {#n, WR_PK_##kind, flags, (uint32_t)offsetof(WR_PROTO_T, n), size, sub},
#define WR__PR_BOOL(n, a, b)     WR__PR(n, BOOL, 0, 0, NULL)
#define WR__PR_OPT_BOOL(n, a, b) WR__PR(n, BOOL, WR_PF_OPT, 0, NULL)
#define WR__PR_U32(n, a, b)      WR__PR(n, U32, 0, 0, NULL)
#define WR__PR_OPT_U32(n, a, b)  WR__PR(n, U32, WR_PF_OPT, 0, NULL)
#define WR__PR_FIX_U32(n, a, b)  WR__PR(n, U32, WR_PF_FIX, 0, NULL)
#define WR__PR_WITH_U32(n, a, b) WR__PR(n, U32, WR_PF_OPT | WR_PF_WITH, 0, NULL)
#define WR__PR_U64(n, a, b)      WR__PR(n, U64, 0, 0, NULL)
#define WR__PR_OPT_U64(n, a, b)  WR__PR(n, U64, WR_PF_OPT, 0, NULL)
#define WR__PR_FIX_U64(n, a, b)  WR__PR(n, U64, WR_PF_FIX, 0, NULL)
#define WR__PR_I32(n, a, b)      WR__PR(n, I32, 0, 0, NULL)
#define WR__PR_I64(n, a, b)      WR__PR(n, I64, 0, 0, NULL)
#define WR__PR_OPT_I64(n, a, b)  WR__PR(n, I64, WR_PF_OPT, 0, NULL)
#define WR__PR_F64(n, a, b)      WR__PR(n, F64, 0, 0, NULL)
#define WR__PR_STR(n, a, b)      WR__PR(n, STR, 0, a, NULL)
#define WR__PR_OPT_STR(n, a, b)  WR__PR(n, STR, WR_PF_OPT, a, NULL)
#define WR__PR_STRV(n, a, b)     WR__PR(n, STRV, 0, 0, NULL)
#define WR__PR_OPT_STRV(n, a, b) WR__PR(n, STRV, WR_PF_OPT, 0, NULL)
#define WR__PR_BIN(n, a, b)      WR__PR(n, BIN, 0, 0, NULL)
#define WR__PR_OPT_BIN(n, a, b)  WR__PR(n, BIN, WR_PF_OPT, 0, NULL)
#define WR__PR_FIX_BIN(n, a, b)  WR__PR(n, BIN, WR_PF_FIX, 0, NULL)
#define WR__PR_BINSTR(n, a, b)   WR__PR(n, BINSTR, 0, 0, NULL)
#define WR__PR_RAW(n, a, b)      WR__PR(n, RAW, 0, 0, NULL)
#define WR__PR_OPT_RAW(n, a, b)  WR__PR(n, RAW, WR_PF_OPT, 0, NULL)
#define WR__PR_OPAQUE(n, a, b)   WR__PR(n, OPAQUE, 0, 0, NULL)
#define WR__PR_STRUCT(n, a, b)   WR__PR(n, STRUCT, 0, 0, &wr_msg_##a##_decl)
#define WR__PR_LIST(n, a, b)     WR__PR(n, LIST, 0, b, &wr_msg_##a##_decl)
#define WR__PR_DICT(n, a, b)     WR__PR(n, DICT, 0, b, &wr_msg_##a##_decl)

/* The descriptor of declaration decl, encoded as enc (ARRAY, MAP or BARE). In one .c file, with
 * WR_PROTO_T defined as wr_msg_<decl>_t:
 *     #define WR_PROTO_T wr_msg_credit_t
 *     WR_PROTO_DESCRIBE(credit, ARRAY)
 *     #undef WR_PROTO_T */
#define WR_PROTO_DESCRIBE(decl, enc)                                                               \
    static const wr_proto_field_t s_fields_##decl[] = {WR_MSG_FIELDS_##decl(WR_PROTO_ROW)};        \
    const wr_proto_struct_t wr_msg_##decl##_decl = {                                               \
        #decl, WR_PROTO_##enc, sizeof s_fields_##decl / sizeof s_fields_##decl[0],                 \
        sizeof(wr_msg_##decl##_t), s_fields_##decl};

#endif
