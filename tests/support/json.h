/* Reading the JSON the CLI prints (`weir actors --json`, `weir mailbox --json`) as a tree, for the
 * tests that check it: strict enough that a document that is not exactly one JSON value is NULL,
 * small enough for command output (\u escapes beyond ASCII read as '?'). tj_ is for "test JSON".
 *
 *     const tj_value_t *doc = tj_parse(r.out);
 *     if (!doc || doc->type != TJ_ARR) PS_FAIL("no JSON array:\n%s", r.out);
 *     const char *status = tj_str(doc->items[0], "status");   // NULL when missing or no string
 *
 * Every value lives in the process harness's arena (tests/support/process.h: ps_keep), freed when
 * the test ends: nothing to release, and nothing leaks when an assertion jumps out. */
#ifndef WR_TEST_JSON_H
#define WR_TEST_JSON_H

#include <stddef.h>

typedef enum { TJ_NULL, TJ_BOOL, TJ_NUM, TJ_STR, TJ_ARR, TJ_OBJ } tj_type_t;

typedef struct tj_value tj_value_t;
struct tj_value {
    tj_type_t type;
    double num;      /* NUM; BOOL as 0 or 1 */
    const char *str; /* STR */
    size_t n;        /* ARR, OBJ: how many items */
    tj_value_t **items;
    const char **keys; /* OBJ: items[i] is the value of keys[i] */
};

/* The document in text, or NULL when it is not exactly one JSON value (nested at most 64 deep). */
const tj_value_t *tj_parse(const char *text);
/* The value of key in obj; NULL when obj is NULL, not an object, or has no such key. */
const tj_value_t *tj_get(const tj_value_t *obj, const char *key);
/* The string of key in obj; NULL when it is missing or not a string. */
const char *tj_str(const tj_value_t *obj, const char *key);
/* The number of key in obj; NaN when it is missing or not a number. */
double tj_num(const tj_value_t *obj, const char *key);
/* text as a JSON string literal, quotes included (also a JavaScript one), kept until the test
 * ends. */
const char *tj_quote(const char *text);

#endif
