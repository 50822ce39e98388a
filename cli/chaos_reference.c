/* The comparison of `weir chaos --topology` (chaos_reference.h): each line is read into its form
 * (its canonical bytes: everything but its non-integer numbers, which are kept aside), the
 * reference's lines are held as written in a chained hash table keyed by the hash of their
 * canonical bytes, and a line matches an entry whose canonical bytes are the same and whose
 * numbers are each within the tolerance. */
#include "cli/chaos_reference.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"
#include "bus/base/jsonr.h"
#include "bus/base/strbuf.h"

#define S_NONE        UINT32_MAX
#define S_MAX_ENTRIES (UINT32_MAX - 1)
#define S_FIRST_HEADS 1024u
#define S_SHOWN       240 /* bytes of a line an example shows */

typedef struct {
    uint64_t hash; /* of the line's canonical bytes */
    uint64_t off;  /* the line as written, in the arena */
    uint32_t len;
    uint32_t out;        /* the output it belongs to */
    uint32_t want, seen; /* times in the reference, in the run (both saturate) */
    uint32_t next;       /* the next entry of its bucket, S_NONE */
} s_entry_t;

/* A line read for comparing. canon: the output (4 bytes), then 'J' and the object with each
 * non-integer number as '~', or 'R' and the line's bytes; nums: those numbers (doubles). */
typedef struct {
    wr_strbuf_t canon, nums, str;
} s_form_t;

struct wr_chaos_ref {
    s_entry_t *e;
    uint32_t n, cap;
    uint32_t *heads; /* nheads (a power of two) bucket heads, S_NONE when empty */
    uint32_t nheads;
    wr_strbuf_t arena;   /* the reference's lines as written */
    s_form_t line, cand; /* the line looked up, a candidate of the table */
    uint64_t lines, unexpected;
    char first_unexpected[WR_CHAOS_EXAMPLE_MAX];
};

/* ---- a line's form ---- */

static int s_value(wr_jsonr_t *r, s_form_t *f);

static int s_object(wr_jsonr_t *r, s_form_t *f)
{
    wr_strbuf_addc(&f->canon, '{');
    wr_jsonr_obj_begin(r);
    while (wr_jsonr_obj_next(r)) {
        if (!r->key[0]) return WR_EPROTO; /* a key too long to see whole (or an empty one) */
        wr_strbuf_add_json_str(&f->canon, r->key, strlen(r->key));
        wr_strbuf_addc(&f->canon, ':');
        if (s_value(r, f)) break;
    }
    wr_strbuf_addc(&f->canon, '}');
    return r->err;
}

static int s_value(wr_jsonr_t *r, s_form_t *f)
{
    enum wr_jsonr_kind kind = wr_jsonr_peek(r);
    if (kind == WR_JSONR_OBJ) {
        s_object(r, f);
    } else if (kind == WR_JSONR_ARR) {
        wr_strbuf_addc(&f->canon, '[');
        wr_jsonr_arr_begin(r);
        while (wr_jsonr_arr_next(r) && !s_value(r, f))
            ;
        wr_strbuf_addc(&f->canon, ']');
    } else if (kind == WR_JSONR_STR) {
        wr_strbuf_reset(&f->str);
        if (!wr_jsonr_read_str(r, &f->str))
            wr_strbuf_add_json_str(&f->canon, f->str.buf, f->str.len);
    } else if (kind != WR_JSONR_INVALID) { /* a number, true, false, null: a token as written */
        wr_jsonr_t after = *r;
        if (wr_jsonr_skip(&after)) return r->err = after.err;
        size_t n = (size_t)(after.p - r->p);
        bool fraction = kind == WR_JSONR_NUM &&
                        (memchr(r->p, '.', n) || memchr(r->p, 'e', n) || memchr(r->p, 'E', n));
        double d;
        if (fraction && !wr_jsonr_read_double(r, &d)) {
            wr_strbuf_addc(&f->canon, '~');
            wr_strbuf_add(&f->nums, &d, sizeof d);
        } else if (!fraction) {
            wr_strbuf_add(&f->canon, r->p, n);
            *r = after;
        }
    } else {
        return r->err ? r->err : (r->err = WR_EPROTO);
    }
    wr_strbuf_addc(&f->canon, ',');
    return r->err;
}

/* line into f: 0, or WR_ENOMEM. */
static int s_form(s_form_t *f, uint32_t out, const char *line, size_t len)
{
    wr_strbuf_reset(&f->canon);
    wr_strbuf_reset(&f->nums);
    wr_strbuf_add(&f->canon, &out, sizeof out);
    wr_jsonr_t r;
    wr_jsonr_init(&r, line, len);
    if (wr_jsonr_peek(&r) == WR_JSONR_OBJ) {
        wr_strbuf_addc(&f->canon, 'J');
        if (!s_object(&r, f) && !wr_jsonr_end(&r) && !f->str.failed) goto done;
        if (r.err == WR_ENOMEM || f->str.failed) return WR_ENOMEM;
    }
    wr_strbuf_truncate(&f->canon, sizeof out); /* not an object read whole: as written */
    wr_strbuf_reset(&f->nums);
    wr_strbuf_addc(&f->canon, 'R');
    wr_strbuf_add(&f->canon, line, len);
done:
    return f->canon.failed || f->nums.failed ? WR_ENOMEM : 0;
}

static uint64_t s_hash(const wr_strbuf_t *canon)
{
    uint64_t h = UINT64_C(1469598103934665603); /* FNV-1a */
    for (size_t i = 0; i < canon->len; i++)
        h = (h ^ (unsigned char)canon->buf[i]) * UINT64_C(1099511628211);
    return h ^ h >> 32;
}

static bool s_close(double a, double b)
{
    if (a == b) return true;
    double d = a > b ? a - b : b - a, ma = a < 0 ? -a : a, mb = b < 0 ? -b : b;
    return d <= WR_CHAOS_REF_REL_TOL * (ma > mb ? ma : mb);
}

/* The first of a's numbers not within the tolerance of b's (same count), or SIZE_MAX. */
static size_t s_far(const s_form_t *a, const s_form_t *b)
{
    for (size_t i = 0; i < a->nums.len / sizeof(double); i++) {
        double x, y;
        memcpy(&x, a->nums.buf + i * sizeof x, sizeof x);
        memcpy(&y, b->nums.buf + i * sizeof y, sizeof y);
        if (!s_close(x, y)) return i;
    }
    return SIZE_MAX;
}

/* ---- the table ---- */

wr_chaos_ref_t *wr_chaos_ref_new(void)
{
    wr_chaos_ref_t *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->heads = malloc(S_FIRST_HEADS * sizeof *t->heads);
    if (!t->heads) {
        free(t);
        return NULL;
    }
    memset(t->heads, 0xff, S_FIRST_HEADS * sizeof *t->heads);
    t->nheads = S_FIRST_HEADS;
    s_form_t *forms[] = {&t->line, &t->cand};
    for (int i = 0; i < 2; i++) {
        wr_strbuf_init(&forms[i]->canon);
        wr_strbuf_init(&forms[i]->nums);
        wr_strbuf_init(&forms[i]->str);
    }
    wr_strbuf_init(&t->arena);
    return t;
}

void wr_chaos_ref_destroy(wr_chaos_ref_t **p)
{
    wr_chaos_ref_t *t = p ? *p : NULL;
    if (!t) return;
    s_form_t *forms[] = {&t->line, &t->cand};
    for (int i = 0; i < 2; i++) {
        wr_strbuf_release(&forms[i]->canon);
        wr_strbuf_release(&forms[i]->nums);
        wr_strbuf_release(&forms[i]->str);
    }
    wr_strbuf_release(&t->arena);
    free(t->heads);
    free(t->e);
    free(t);
    *p = NULL;
}

typedef struct {
    s_entry_t *match; /* the entry to count the line for, NULL */
    s_entry_t *near;  /* else one equal but for a number out of the tolerance, NULL */
    size_t far;       /* that number's index */
    double got, ref;  /* its values in the line and in the reference */
} s_found_t;

/* The entry t->line (hash h, of output out) matches: with want set, the first one found fewer
 * times than wanted, else the first one. 0, or WR_ENOMEM. */
static int s_find(wr_chaos_ref_t *t, uint32_t out, uint64_t h, bool want, s_found_t *fd)
{
    memset(fd, 0, sizeof *fd);
    for (uint32_t i = t->heads[h & (t->nheads - 1)]; i != S_NONE; i = t->e[i].next) {
        s_entry_t *e = &t->e[i];
        if (e->hash != h || e->out != out) continue;
        if (s_form(&t->cand, e->out, t->arena.buf + e->off, e->len)) return WR_ENOMEM;
        if (t->cand.canon.len != t->line.canon.len || t->cand.nums.len != t->line.nums.len ||
            memcmp(t->cand.canon.buf, t->line.canon.buf, t->line.canon.len))
            continue;
        size_t far = s_far(&t->line, &t->cand);
        if (far == SIZE_MAX) {
            if (!fd->match) fd->match = e;
            if (!want || e->seen < e->want) {
                fd->match = e;
                return 0;
            }
        } else if (!fd->near) {
            fd->near = e;
            fd->far = far;
            memcpy(&fd->got, t->line.nums.buf + far * sizeof(double), sizeof(double));
            memcpy(&fd->ref, t->cand.nums.buf + far * sizeof(double), sizeof(double));
        }
    }
    return 0;
}

/* Room for one more entry (and its bucket): 0, WR_ENOMEM or WR_ETOOBIG. */
static int s_grow(wr_chaos_ref_t *t)
{
    if (t->n == S_MAX_ENTRIES) return WR_ETOOBIG;
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? (t->cap > S_MAX_ENTRIES / 2 ? S_MAX_ENTRIES : t->cap * 2) : 1024;
        s_entry_t *e = realloc(t->e, (size_t)cap * sizeof *e);
        if (!e) return WR_ENOMEM;
        t->e = e;
        t->cap = cap;
    }
    if (t->n < t->nheads || t->nheads > UINT32_MAX / 2) return 0;
    uint32_t nh = t->nheads * 2, *heads = malloc((size_t)nh * sizeof *heads);
    if (!heads) return WR_ENOMEM;
    memset(heads, 0xff, (size_t)nh * sizeof *heads);
    for (uint32_t i = 0; i < t->n; i++) { /* rebuilt in order: each chain stays in table order */
        t->e[i].next = S_NONE;
        uint32_t *at = &heads[t->e[i].hash & (nh - 1)];
        while (*at != S_NONE)
            at = &t->e[*at].next;
        *at = i;
    }
    free(t->heads);
    t->heads = heads;
    t->nheads = nh;
    return 0;
}

int wr_chaos_ref_add(wr_chaos_ref_t *t, uint32_t out, const char *line, size_t len)
{
    if (len > UINT32_MAX) return WR_ETOOBIG;
    int rc = s_form(&t->line, out, line, len);
    uint64_t h = s_hash(&t->line.canon);
    s_found_t fd;
    if (!rc) rc = s_find(t, out, h, false, &fd);
    if (rc) return rc;
    if (fd.match) {
        if (fd.match->want < UINT32_MAX) fd.match->want++;
        return 0;
    }
    if ((rc = s_grow(t))) return rc;
    size_t off = t->arena.len;
    wr_strbuf_add(&t->arena, line, len);
    if (t->arena.failed) {
        t->arena.failed = false; /* it kept what it had */
        return WR_ENOMEM;
    }
    /* appended at its chain's end: a line counts for the first of equal entries */
    uint32_t *at = &t->heads[h & (t->nheads - 1)];
    while (*at != S_NONE)
        at = &t->e[*at].next;
    *at = t->n;
    t->e[t->n++] = (s_entry_t){.hash = h,
                               .off = off,
                               .len = (uint32_t)len,
                               .out = out,
                               .want = 1,
                               .seen = 0,
                               .next = S_NONE};
    return 0;
}

/* line[0, len) with bytes a terminal should not see as '?', cut to S_SHOWN bytes ("..." then),
 * into out (S_SHOWN + 4 bytes). */
static void s_show(const char *line, size_t len, char *out)
{
    size_t n = len < S_SHOWN ? len : S_SHOWN;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)line[i];
        out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    strcpy(out + n, len > S_SHOWN ? "..." : "");
}

void wr_chaos_ref_unexpected(wr_chaos_ref_t *t, const char *line, size_t len, const char *why,
                             const char *where)
{
    t->lines++;
    if (t->unexpected++) return;
    char shown[S_SHOWN + 4];
    s_show(line, len, shown);
    snprintf(t->first_unexpected, sizeof t->first_unexpected, "%s (%s%s%s)", shown, why,
             where[0] ? "; " : "", where);
}

int wr_chaos_ref_see(wr_chaos_ref_t *t, uint32_t out, const char *line, size_t len,
                     const char *where)
{
    int rc = s_form(&t->line, out, line, len);
    s_found_t fd;
    if (!rc) rc = s_find(t, out, s_hash(&t->line.canon), true, &fd);
    if (rc) return rc;
    if (fd.match) {
        t->lines++;
        if (fd.match->seen < UINT32_MAX) fd.match->seen++;
        return 0;
    }
    char why[128];
    if (fd.near)
        snprintf(why, sizeof why, "number %zu of the line is %.17g, the reference's %.17g",
                 fd.far + 1, fd.got, fd.ref);
    else
        snprintf(why, sizeof why, "%s",
                 t->line.canon.buf[sizeof out] == 'J' ? "no line of the reference has these values"
                                                      : "no line of the reference is this one");
    wr_chaos_ref_unexpected(t, line, len, why, where);
    return 0;
}

void wr_chaos_ref_verdict(const wr_chaos_ref_t *t, wr_chaos_verdict_t *v)
{
    memset(v, 0, sizeof *v);
    v->expected = t->n;
    v->lines = t->lines;
    v->unexpected = t->unexpected;
    snprintf(v->first_unexpected, sizeof v->first_unexpected, "%s", t->first_unexpected);
    char shown[S_SHOWN + 4];
    for (uint32_t i = 0; i < t->n; i++) {
        const s_entry_t *e = &t->e[i];
        if (e->seen == e->want) {
            v->ok++;
            continue;
        }
        bool lost = e->seen < e->want;
        if (lost ? v->lost++ : v->duplicated++) continue;
        s_show(t->arena.buf + e->off, e->len, shown);
        snprintf(lost ? v->first_lost : v->first_duplicated, WR_CHAOS_EXAMPLE_MAX,
                 "%s (found %u times, the reference has it %u)", shown, e->seen, e->want);
    }
    v->valid = !v->lost && !v->duplicated && !v->unexpected;
}
