/* deploy/k8s: the Kubernetes manifests, checked without kubectl or a cluster (neither is on
 * Debian 12 or CI): every *.yaml of the folder, and the Secrets deploy/k8s/keys.sh prints, read as
 * multi-document YAML by weir's own reader (bus/base/yaml/ytree.h), then:
 *
 * - shape: every document is a mapping with apiVersion, kind and metadata.name; the kind is one
 *   of those the manifests use, with its apiVersion; no two documents share kind and name.
 * - references resolve: a workload's selector matches its pod template's labels, a StatefulSet's
 *   serviceName is a headless Service; every volume's ConfigMap, Secret or claim exists, every
 *   volumeMount names a volume, every $(VAR) of a command line is in the container's env; every
 *   Service's selector matches pod templates and its targetPorts are their containers' ports; a
 *   scraped Service's prometheus.io/port is one of its ports; a NetworkPolicy selects pods; every
 *   probe's port is its container's.
 * - weir accepts what the pods run: the ConfigMap's weir.yaml loads as a --config file
 *   (wr_config_load_file), and on top of it each weir container's --set KEY=VALUE (with sample
 *   values for $(POD_NAME) and $(POD_IP)) sets a key that exists, and the result passes
 *   wr_config_check; --config names the mounted ConfigMap's file; every other flag is in `weir CMD
 *   --help`; the container ports are the ones the configuration binds and advertises (bus, REST,
 *   metrics), the keys' folder is security.keys-dir. The JobManager's liveness path is one the
 *   REST server answers by itself (a standby lives), its readiness path one only a leader
 *   answers; the TaskManager's liveness path is /metrics.
 * - keys: keys.sh, run with the StatefulSets' replica counts, makes a public certificate and a
 *   secret key for every pod name (the node ids) and the admin's.
 * - the Dockerfile installs the run-time packages deploy/ansible installs (weir_packages) and puts
 *   weir where the manifests run it.
 *
 * Not checked: Kubernetes' own schema beyond these fields (no OpenAPI schema on Debian 12), the
 * image build, and a run on a cluster. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/rest/rest_route.h"
#include "bus/base/strbuf.h"
#include "bus/base/yaml/ytree.h"
#include "cli/config.h"
#include "tests/support/process.h"

#define S_MAX_DOCS  64
#define S_WAIT_MS   (ps_h.asan ? 60000 : 20000)
#define S_SAMPLE_IP "10.1.2.3"
#define S_WEIR_PATH "/usr/local/bin/weir"
#define S_ADMIN     "admin"

typedef const wr_yaml_node_t node_t;

typedef struct {
    wr_yaml_t *y;
    node_t *root;
    const char *file; /* for messages: deploy/k8s/x.yaml, keys.sh */
    const char *kind, *name;
} s_doc_t;

/* The documents of a test, destroyed by its teardown (also when it fails). */
static struct {
    s_doc_t doc[S_MAX_DOCS];
    size_t n;
    wr_strbuf_t yaml_err; /* the documents' error text (they borrow it) */
    wr_strbuf_t problems; /* what the checks found, one line each */
} s_m;

/* ---- reading ---- */

/* Appends one problem "FILE:LINE: text" (line 0: none). */
static void s_problem(const s_doc_t *d, const node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void s_problem(const s_doc_t *d, const node_t *n, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    wr_strbuf_addf(&s_m.problems, "%s:%u: %s %s: %s\n", d->file, n ? n->line : 0,
                   d->kind ? d->kind : "?", d->name ? d->name : "?", text);
}

/* The value of key in mapping n; NULL when n is no mapping or has no such key. */
static node_t *s_key(node_t *n, const char *key)
{
    if (!n || n->kind != WR_YAML_MAP) return NULL;
    for (uint32_t i = 0; i < n->n; i++)
        if (n->pairs[i].key->kind == WR_YAML_SCALAR && !strcmp(n->pairs[i].key->text, key))
            return n->pairs[i].value;
    return NULL;
}

/* n's text when it is a scalar that is not empty; else NULL. */
static const char *s_text(node_t *n)
{
    return n && n->kind == WR_YAML_SCALAR && n->len ? n->text : NULL;
}

/* The item count of list n (0 when it is no list). */
static uint32_t s_len(node_t *n)
{
    return n && n->kind == WR_YAML_LIST ? n->n : 0;
}

/* Adds the documents of text (from file) to s_m: split at the lines "---", each loaded with its
 * line numbers as in the file (the lines before it left empty). Empty documents are skipped. */
static void s_load_text(const char *file, const char *text)
{
    const char *start = text;
    uint32_t first_line = 1, line = 1;
    for (const char *p = text;; p++) {
        bool end = !*p,
             sep = (p == text || p[-1] == '\n') && !strncmp(p, "---", 3) && (p[3] == '\n' || !p[3]);
        if (end || sep) {
            char *chunk = ps_alloc((size_t)(p - start) + first_line + 1);
            memset(chunk, '\n', first_line - 1);
            memcpy(chunk + first_line - 1, start, (size_t)(p - start));
            wr_yaml_opts_t o = {"the manifest", 1 << 20, "one document per part"};
            wr_yaml_t *y = NULL;
            if (wr_yaml_load(chunk, strlen(chunk), file, &o, &y, &s_m.yaml_err))
                fail_msg("%s", s_m.yaml_err.buf);
            if (!wr_yaml_root(y)) {
                wr_yaml_destroy(&y);
            } else {
                if (s_m.n == S_MAX_DOCS) fail_msg("more than %d documents", S_MAX_DOCS);
                s_m.doc[s_m.n++] = (s_doc_t){y, wr_yaml_root(y), file, NULL, NULL};
            }
        }
        if (end) break;
        if (*p == '\n') line++;
        if (sep) {
            p += 3;
            start = *p ? p + 1 : p;
            first_line = ++line;
        }
    }
}

/* The manifests of deploy/k8s (*.yaml, sorted); how many files. */
static size_t s_load_manifests(void)
{
    const char *dir = ps_fmt("%s/deploy/k8s", ps_h.src);
    DIR *d = opendir(dir);
    if (!d) fail_msg("cannot open %s", dir);
    char *names[32];
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len > 5 && !strcmp(e->d_name + len - 5, ".yaml") && n < 32)
            names[n++] = (char *)ps_fmt("%s", e->d_name);
    }
    closedir(d);
    ps_sort_strings(names, n);
    for (size_t i = 0; i < n; i++)
        s_load_text(ps_fmt("deploy/k8s/%s", names[i]),
                    ps_read_file(ps_fmt("%s/%s", dir, names[i])));
    return n;
}

/* The document of kind and name, or NULL. */
static const s_doc_t *s_find(const char *kind, const char *name)
{
    for (size_t i = 0; i < s_m.n; i++)
        if (s_m.doc[i].kind && !strcmp(s_m.doc[i].kind, kind) && s_m.doc[i].name &&
            !strcmp(s_m.doc[i].name, name))
            return &s_m.doc[i];
    return NULL;
}

/* ---- shape ---- */

static const char *const s_kinds[][2] = {
    {"ConfigMap", "v1"},
    {"Secret", "v1"},
    {"Service", "v1"},
    {"Pod", "v1"},
    {"StatefulSet", "apps/v1"},
    {"Deployment", "apps/v1"},
    {"PersistentVolumeClaim", "v1"},
    {"NetworkPolicy", "networking.k8s.io/v1"},
};

static void s_check_shape(s_doc_t *d)
{
    if (d->root->kind != WR_YAML_MAP) {
        s_problem(d, d->root, "a document is %s, not a mapping", wr_yaml_kind_name(d->root));
        return;
    }
    const char *api = s_text(s_key(d->root, "apiVersion"));
    d->kind = s_text(s_key(d->root, "kind"));
    d->name = s_text(s_key(s_key(d->root, "metadata"), "name"));
    if (!api || !d->kind || !d->name) {
        s_problem(d, d->root, "apiVersion, kind and metadata.name are required");
        return;
    }
    size_t k = 0, nk = sizeof s_kinds / sizeof s_kinds[0];
    while (k < nk && strcmp(s_kinds[k][0], d->kind))
        k++;
    if (k == nk)
        s_problem(d, d->root, "kind %s is none the check knows", d->kind);
    else if (strcmp(s_kinds[k][1], api))
        s_problem(d, d->root, "apiVersion %s, not %s", api, s_kinds[k][1]);
    for (const s_doc_t *o = s_m.doc; o < d; o++)
        if (o->kind && o->name && !strcmp(o->kind, d->kind) && !strcmp(o->name, d->name))
            s_problem(d, d->root, "a second %s named %s (%s)", d->kind, d->name, o->file);
}

/* ---- pods ---- */

/* A pod template (or a Pod's own spec) and what names it. */
typedef struct {
    s_doc_t *doc;
    node_t *spec, *labels;
    long replicas; /* 1 for a Pod */
} s_pod_t;

/* The pod of doc, when doc is a workload or a Pod. */
static bool s_pod(s_doc_t *d, s_pod_t *p)
{
    *p = (s_pod_t){d, NULL, NULL, 1};
    if (!d->kind) return false;
    if (!strcmp(d->kind, "Pod")) {
        p->spec = s_key(d->root, "spec");
        p->labels = s_key(s_key(d->root, "metadata"), "labels");
        return true;
    }
    if (strcmp(d->kind, "StatefulSet") && strcmp(d->kind, "Deployment")) return false;
    node_t *spec = s_key(d->root, "spec"), *tmpl = s_key(spec, "template");
    p->spec = s_key(tmpl, "spec");
    p->labels = s_key(s_key(tmpl, "metadata"), "labels");
    const char *r = s_text(s_key(spec, "replicas"));
    p->replicas = r ? strtol(r, NULL, 10) : 1;
    return true;
}

/* Every pair of selector (a mapping of labels) is in labels; false for an empty selector. */
static bool s_selects(node_t *selector, node_t *labels)
{
    if (!selector || selector->kind != WR_YAML_MAP || !selector->n) return false;
    for (uint32_t i = 0; i < selector->n; i++) {
        const char *want = s_text(selector->pairs[i].value);
        const char *have = s_text(s_key(labels, selector->pairs[i].key->text));
        if (!want || !have || strcmp(want, have)) return false;
    }
    return true;
}

/* The number of the container port called name (a number stands for itself), or -1. */
static long s_port_of(node_t *container, const char *name)
{
    node_t *ports = s_key(container, "ports");
    char *end;
    long number = strtol(name, &end, 10);
    for (uint32_t i = 0; i < s_len(ports); i++) {
        const char *pn = s_text(s_key(ports->items[i], "name"));
        const char *pc = s_text(s_key(ports->items[i], "containerPort"));
        long port = pc ? strtol(pc, NULL, 10) : -1;
        if ((pn && !strcmp(pn, name)) || (!*end && port == number)) return port;
    }
    return -1;
}

/* Whether some container of the pod has the port (a name or a number). */
static bool s_pod_has_port(const s_pod_t *p, const char *port)
{
    node_t *cs = s_key(p->spec, "containers");
    for (uint32_t i = 0; i < s_len(cs); i++)
        if (s_port_of(cs->items[i], port) >= 0) return true;
    return false;
}

/* The volume named name of the pod (volumes and, for a StatefulSet, volumeClaimTemplates). */
static node_t *s_volume(const s_pod_t *p, const char *name)
{
    node_t *vs = s_key(p->spec, "volumes");
    for (uint32_t i = 0; i < s_len(vs); i++)
        if (s_text(s_key(vs->items[i], "name")) &&
            !strcmp(s_text(s_key(vs->items[i], "name")), name))
            return vs->items[i];
    node_t *claims = s_key(s_key(p->doc->root, "spec"), "volumeClaimTemplates");
    for (uint32_t i = 0; i < s_len(claims); i++) {
        const char *n = s_text(s_key(s_key(claims->items[i], "metadata"), "name"));
        if (n && !strcmp(n, name)) return claims->items[i];
    }
    return NULL;
}

/* The volume mounted at path in container c, or NULL. */
static node_t *s_mounted_at(const s_pod_t *p, node_t *c, const char *path)
{
    node_t *mounts = s_key(c, "volumeMounts");
    for (uint32_t i = 0; i < s_len(mounts); i++) {
        const char *at = s_text(s_key(mounts->items[i], "mountPath"));
        const char *name = s_text(s_key(mounts->items[i], "name"));
        if (at && name && !strcmp(at, path)) return s_volume(p, name);
    }
    return NULL;
}

/* The data of the Secret (or ConfigMap) a volume shows, or NULL. */
static node_t *s_volume_data(node_t *volume)
{
    const char *secret = s_text(s_key(s_key(volume, "secret"), "secretName"));
    const char *cm = s_text(s_key(s_key(volume, "configMap"), "name"));
    const s_doc_t *d = secret ? s_find("Secret", secret) : cm ? s_find("ConfigMap", cm) : NULL;
    return d ? s_key(d->root, "data") : NULL;
}

static void s_check_probe(const s_pod_t *p, node_t *c, const char *which)
{
    node_t *probe = s_key(c, which);
    if (!probe) return;
    node_t *get = s_key(probe, "httpGet");
    const char *port = s_text(s_key(get, "port"));
    if (!get || !port || !s_text(s_key(get, "path")))
        s_problem(p->doc, probe, "%s: an httpGet with a path and a port", which);
    else if (s_port_of(c, port) < 0)
        s_problem(p->doc, probe, "%s: port %s is none of container %s's", which, port,
                  s_text(s_key(c, "name")));
}

/* Checks a container's names: mounts, $(VAR)s, probes. */
static void s_check_container(const s_pod_t *p, node_t *c)
{
    const char *name = s_text(s_key(c, "name"));
    if (!name || !s_text(s_key(c, "image")))
        s_problem(p->doc, c, "a container needs a name and an image");
    node_t *mounts = s_key(c, "volumeMounts");
    for (uint32_t i = 0; i < s_len(mounts); i++) {
        const char *v = s_text(s_key(mounts->items[i], "name"));
        if (!v || !s_volume(p, v))
            s_problem(p->doc, mounts->items[i], "container %s mounts volume %s, which is not there",
                      name, v ? v : "?");
    }
    node_t *lines[] = {s_key(c, "command"), s_key(c, "args")};
    for (size_t l = 0; l < 2; l++)
        for (uint32_t i = 0; i < s_len(lines[l]); i++) {
            const char *a = s_text(lines[l]->items[i]);
            for (const char *v = a ? strstr(a, "$(") : NULL; v; v = strstr(v + 2, "$(")) {
                const char *var = ps_fmt("%.*s", (int)strcspn(v + 2, ")"), v + 2);
                node_t *env = s_key(c, "env");
                bool found = false;
                for (uint32_t e = 0; e < s_len(env); e++)
                    if (s_text(s_key(env->items[e], "name")) &&
                        !strcmp(s_text(s_key(env->items[e], "name")), var))
                        found = true;
                if (!found)
                    s_problem(p->doc, lines[l]->items[i], "$(%s) is not in container %s's env", var,
                              name);
            }
        }
    s_check_probe(p, c, "livenessProbe");
    s_check_probe(p, c, "readinessProbe");
    s_check_probe(p, c, "startupProbe");
}

static void s_check_pod(const s_pod_t *p)
{
    if (!p->spec || !p->labels) {
        s_problem(p->doc, p->doc->root, "no pod spec with labels");
        return;
    }
    node_t *spec = s_key(p->doc->root, "spec");
    if (strcmp(p->doc->kind, "Pod") &&
        !s_selects(s_key(s_key(spec, "selector"), "matchLabels"), p->labels))
        s_problem(p->doc, spec, "selector.matchLabels does not match the pod template's labels");
    if (!strcmp(p->doc->kind, "StatefulSet")) {
        const char *svc = s_text(s_key(spec, "serviceName"));
        const s_doc_t *s = svc ? s_find("Service", svc) : NULL;
        if (!s || !s_text(s_key(s_key(s->root, "spec"), "clusterIP")) ||
            strcmp(s_text(s_key(s_key(s->root, "spec"), "clusterIP")), "None"))
            s_problem(p->doc, spec, "serviceName %s is no headless Service", svc ? svc : "?");
    }
    node_t *vs = s_key(p->spec, "volumes");
    for (uint32_t i = 0; i < s_len(vs); i++) {
        node_t *v = vs->items[i];
        const char *cm = s_text(s_key(s_key(v, "configMap"), "name"));
        const char *secret = s_text(s_key(s_key(v, "secret"), "secretName"));
        const char *claim = s_text(s_key(s_key(v, "persistentVolumeClaim"), "claimName"));
        if (cm && !s_find("ConfigMap", cm)) s_problem(p->doc, v, "no ConfigMap %s", cm);
        if (secret && !s_find("Secret", secret))
            s_problem(p->doc, v, "no Secret %s (keys.sh makes them)", secret);
        if (claim && !s_find("PersistentVolumeClaim", claim))
            s_problem(p->doc, v, "no PersistentVolumeClaim %s", claim);
    }
    node_t *lists[] = {s_key(p->spec, "initContainers"), s_key(p->spec, "containers")};
    if (!s_len(lists[1])) s_problem(p->doc, p->spec, "no containers");
    for (size_t l = 0; l < 2; l++)
        for (uint32_t i = 0; i < s_len(lists[l]); i++)
            s_check_container(p, lists[l]->items[i]);
}

/* ---- services and policies ---- */

static void s_check_service(s_doc_t *d, const s_pod_t *pods, size_t npods)
{
    node_t *spec = s_key(d->root, "spec"), *sel = s_key(spec, "selector");
    size_t matched = 0;
    for (size_t i = 0; i < npods; i++) {
        if (!s_selects(sel, pods[i].labels)) continue;
        matched++;
        node_t *ports = s_key(spec, "ports");
        for (uint32_t k = 0; k < s_len(ports); k++) {
            const char *target = s_text(s_key(ports->items[k], "targetPort"));
            if (!target) target = s_text(s_key(ports->items[k], "port"));
            if (!target || !s_pod_has_port(&pods[i], target))
                s_problem(d, ports->items[k], "targetPort %s is no port of %s %s's pods",
                          target ? target : "?", pods[i].doc->kind, pods[i].doc->name);
        }
    }
    if (!matched) s_problem(d, spec, "its selector matches no pod template");
    node_t *ann = s_key(s_key(d->root, "metadata"), "annotations");
    const char *scrape = s_text(s_key(ann, "prometheus.io/scrape"));
    if (scrape && !strcmp(scrape, "true")) {
        const char *port = s_text(s_key(ann, "prometheus.io/port"));
        node_t *ports = s_key(spec, "ports");
        bool found = false;
        for (uint32_t k = 0; port && k < s_len(ports); k++)
            found |= !strcmp(s_text(s_key(ports->items[k], "port")), port);
        if (!found) s_problem(d, ann, "prometheus.io/port %s is none of its ports", port);
    }
}

static void s_check_policy(s_doc_t *d, const s_pod_t *pods, size_t npods)
{
    node_t *sel = s_key(s_key(s_key(d->root, "spec"), "podSelector"), "matchLabels");
    size_t matched = 0;
    for (size_t i = 0; i < npods; i++)
        matched += s_selects(sel, pods[i].labels);
    if (!matched) s_problem(d, d->root, "its podSelector matches no pod template");
}

/* ---- weir's part ---- */

/* The pod name of replica i of p (a Pod: its name). */
static const char *s_pod_name(const s_pod_t *p, long i)
{
    return strcmp(p->doc->kind, "Pod") ? ps_fmt("%s-%ld", p->doc->name, i) : p->doc->name;
}

/* The port of a tcp://HOST:PORT endpoint, or -1. */
static long s_endpoint_port(const char *ep)
{
    const char *colon = ep ? strrchr(ep, ':') : NULL;
    return colon ? strtol(colon + 1, NULL, 10) : -1;
}

/* `weir CMD --help`'s text (run once per command). */
static const char *s_help(const char *cmd)
{
    ps_result_t r = ps_run(ps_fmt("help-%s", cmd), PS_ARGV(cmd, "--help"), S_WAIT_MS);
    return ps_fmt("%s%s", r.out, r.err);
}

/* A weir container: its command line against the configuration it reads and the help of its
 * command, its ports against that configuration, its probes, its keys. */
static void s_check_weir(const s_pod_t *p, node_t *c)
{
    node_t *args = s_key(c, "args");
    const char *cmd = s_text(s_len(args) ? args->items[0] : NULL);
    if (!cmd || (strcmp(cmd, "jobmanager") && strcmp(cmd, "taskmanager"))) {
        s_problem(p->doc, c, "weir runs %s, not jobmanager or taskmanager", cmd ? cmd : "nothing");
        return;
    }
    bool jm = !strcmp(cmd, "jobmanager");
    const char *help = s_help(cmd), *pod = s_pod_name(p, 0);
    wr_config_t *cfg = wr_config_new();
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    bool has_config = false;
    for (uint32_t i = 1; i < args->n; i++) {
        const char *a = s_text(args->items[i]),
                   *v = i + 1 < args->n ? s_text(args->items[i + 1]) : NULL;
        if (!a || strncmp(a, "--", 2)) {
            s_problem(p->doc, args->items[i], "'%s': a flag was expected", a ? a : "");
            continue;
        }
        if (!strstr(help, ps_fmt("%s ", a)))
            s_problem(p->doc, args->items[i], "weir %s --help knows no %s", cmd, a);
        if (!v) continue;
        i++;
        if (!strcmp(a, "--config")) {
            /* the file of a ConfigMap mounted at its folder */
            const char *slash = strrchr(v, '/');
            node_t *vol = slash ? s_mounted_at(p, c, ps_fmt("%.*s", (int)(slash - v), v)) : NULL;
            const char *text = s_text(s_key(s_volume_data(vol), slash ? slash + 1 : ""));
            const char *path = ps_path(ps_fmt("%s-%s.yaml", p->doc->name, cmd));
            if (!text) {
                s_problem(p->doc, args->items[i], "--config %s is no mounted ConfigMap's file", v);
                continue;
            }
            ps_write_file(path, text);
            if (wr_config_load_file(cfg, path, &err))
                s_problem(p->doc, args->items[i], "weir refuses %s: %s", v, err.buf);
            has_config = true;
        } else if (!strcmp(a, "--set")) {
            const char *eq = strchr(v, '=');
            const char *key = eq ? ps_fmt("%.*s", (int)(eq - v), v) : v, *value = eq ? eq + 1 : "";
            const char *at;
            while ((at = strstr(value, "$(POD_NAME)")))
                value = ps_fmt("%.*s%s%s", (int)(at - value), value, pod, at + 11);
            while ((at = strstr(value, "$(POD_IP)")))
                value = ps_fmt("%.*s%s%s", (int)(at - value), value, S_SAMPLE_IP, at + 9);
            wr_strbuf_reset(&err);
            if (!eq || wr_config_set(cfg, ps_fmt("--set %s", key), key, value, &err))
                s_problem(p->doc, args->items[i], "weir refuses --set %s: %s", v, err.buf);
        }
    }
    wr_strbuf_reset(&err);
    if (!has_config) s_problem(p->doc, c, "no --config: the pods share the ConfigMap's");
    if (wr_config_check(cfg, &err)) s_problem(p->doc, c, "weir refuses the whole: %s", err.buf);

    /* ports: the bus (bound and advertised), REST, metrics */
    const char *bind = wr_config_str(cfg, jm ? "jobmanager.bind" : "taskmanager.bind");
    const char *adv = wr_config_str(cfg, "bus.advertised-endpoint");
    long bus = s_port_of(c, "bus");
    if (bus < 0 || bus != s_endpoint_port(bind) || bus != s_endpoint_port(adv))
        s_problem(p->doc, c, "port bus (%ld) is not the one bound (%s) and advertised (%s)", bus,
                  bind, adv[0] ? adv : "nothing");
    if (strcmp(jm ? wr_config_str(cfg, "jobmanager.node-id")
                  : wr_config_str(cfg, "taskmanager.node-id"),
               pod))
        s_problem(p->doc, c, "the node id is not the pod's name (%s)", pod);
    if (s_port_of(c, "metrics") != wr_config_int(cfg, "metrics.prometheus.port"))
        s_problem(p->doc, c, "port metrics is not metrics.prometheus.port (%lld)",
                  (long long)wr_config_int(cfg, "metrics.prometheus.port"));
    if (jm && s_port_of(c, "rest") != wr_config_int(cfg, "rest.port"))
        s_problem(p->doc, c, "port rest is not rest.port (%lld)",
                  (long long)wr_config_int(cfg, "rest.port"));

    /* probes: a standby lives, only a leader is ready */
    const char *live = s_text(s_key(s_key(s_key(c, "livenessProbe"), "httpGet"), "path"));
    const char *ready = s_text(s_key(s_key(s_key(c, "readinessProbe"), "httpGet"), "path"));
    wr_rest_params_t rp;
    if (jm && (!live || wr_rest_route("GET", live, &rp) != WR_REST_CONFIG))
        s_problem(p->doc, c, "liveness: a path the REST server answers by itself (/config)");
    wr_rest_route_t rr = ready ? wr_rest_route("GET", ready, &rp) : WR_REST_NOT_FOUND;
    if (jm && (rr == WR_REST_NOT_FOUND || rr == WR_REST_METHOD_NOT_ALLOWED || rr == WR_REST_CONFIG))
        s_problem(p->doc, c, "readiness: a path only the leader answers (e.g. /jobs)");
    if (!jm && (!live || strcmp(live, "/metrics")))
        s_problem(p->doc, c, "liveness: /metrics, which every node serves");

    /* keys: public/ and secret/ under security.keys-dir, a key for every pod name */
    const char *keys = wr_config_str(cfg, "security.keys-dir");
    node_t *pub = s_volume_data(s_mounted_at(p, c, ps_fmt("%s/public", keys)));
    node_t *init = s_key(p->spec, "initContainers");
    node_t *secret = NULL;
    for (uint32_t i = 0; i < s_len(init); i++) {
        node_t *mounts = s_key(init->items[i], "volumeMounts");
        for (uint32_t k = 0; k < s_len(mounts); k++) {
            node_t *data = s_volume_data(s_volume(p, s_text(s_key(mounts->items[k], "name"))));
            if (data && s_key(s_key(s_volume(p, s_text(s_key(mounts->items[k], "name"))), "secret"),
                              "secretName"))
                secret = data;
        }
    }
    if (!pub) s_problem(p->doc, c, "no Secret mounted at %s/public", keys);
    if (!secret) s_problem(p->doc, c, "no init container with the Secret of the nodes' keys");
    for (long i = 0; pub && secret && i < p->replicas; i++) {
        const char *name = s_pod_name(p, i);
        if (!s_key(pub, name) || !s_key(secret, ps_fmt("%s_secret", name)))
            s_problem(p->doc, c, "no key for pod %s in the Secrets keys.sh made", name);
    }
    if (pub && !s_key(pub, S_ADMIN)) s_problem(p->doc, c, "no public certificate of the admin");
    wr_strbuf_release(&err);
    wr_config_destroy(&cfg);
}

/* Runs keys.sh for the weir StatefulSets' replicas and adds its Secrets to the documents. */
static void s_load_keys(void)
{
    long replicas[2] = {0, 0}; /* JobManagers, TaskManagers */
    for (size_t i = 0; i < s_m.n; i++) {
        s_pod_t p;
        if (!s_pod(&s_m.doc[i], &p) || strcmp(s_m.doc[i].kind, "StatefulSet")) continue;
        if (!strcmp(s_m.doc[i].name, "weir-jobmanager")) replicas[0] = p.replicas;
        if (!strcmp(s_m.doc[i].name, "weir-taskmanager")) replicas[1] = p.replicas;
    }
    if (!replicas[0] || !replicas[1])
        fail_msg("no StatefulSets weir-jobmanager and weir-taskmanager with replicas");
    char **env =
        ps_env(NULL, PS_ARGV(ps_fmt("WEIR=%s", ps_h.weir), ps_fmt("KEYS_DIR=%s", ps_path("keys"))));
    ps_proc_t *k = ps_start_program("keys", "/bin/sh",
                                    PS_ARGV(ps_fmt("%s/deploy/k8s/keys.sh", ps_h.src),
                                            ps_fmt("%ld", replicas[0]), ps_fmt("%ld", replicas[1])),
                                    env);
    ps_expect_success(k, S_WAIT_MS);
    s_load_text("keys.sh", ps_read_file(k->out));
    print_message("  keys.sh %ld %ld: %s", replicas[0], replicas[1], ps_read_file(k->err));
}

static void test_manifests(void **state)
{
    (void)state;
    size_t files = s_load_manifests();
    for (size_t i = 0; i < s_m.n; i++)
        s_check_shape(&s_m.doc[i]);
    size_t manifests = s_m.n;
    s_load_keys();
    for (size_t i = manifests; i < s_m.n; i++)
        s_check_shape(&s_m.doc[i]);
    if (s_m.problems.len) fail_msg("%s", s_m.problems.buf);

    s_pod_t pods[S_MAX_DOCS];
    size_t npods = 0;
    for (size_t i = 0; i < s_m.n; i++)
        if (s_pod(&s_m.doc[i], &pods[npods])) s_check_pod(&pods[npods++]);
    size_t weirs = 0;
    for (size_t i = 0; i < npods; i++) {
        node_t *cs = s_key(pods[i].spec, "containers");
        for (uint32_t k = 0; k < s_len(cs); k++) {
            node_t *command = s_key(cs->items[k], "command");
            const char *prog = s_text(s_len(command) ? command->items[0] : NULL);
            if (prog && !strcmp(prog, S_WEIR_PATH) && s_key(cs->items[k], "args")) {
                s_check_weir(&pods[i], cs->items[k]);
                weirs++;
            }
        }
    }
    for (size_t i = 0; i < s_m.n; i++) {
        if (!strcmp(s_m.doc[i].kind, "Service")) s_check_service(&s_m.doc[i], pods, npods);
        if (!strcmp(s_m.doc[i].kind, "NetworkPolicy")) s_check_policy(&s_m.doc[i], pods, npods);
    }
    if (weirs < 2)
        s_problem(&s_m.doc[0], NULL, "%zu weir containers: a JobManager's, a TaskManager's", weirs);
    if (s_m.problems.len) fail_msg("%s", s_m.problems.buf);
    print_message("  %zu files, %zu documents (keys.sh's included), %zu pod templates, %zu weir "
                  "containers: every reference resolves\n",
                  files, s_m.n, npods, weirs);
}

/* The Dockerfile installs what deploy/ansible installs for weir to run, and puts weir where the
 * manifests run it. */
static void test_dockerfile(void **state)
{
    (void)state;
    const char *docker = ps_read_file(ps_fmt("%s/deploy/k8s/Dockerfile", ps_h.src));
    const char *defaults = ps_fmt("%s/deploy/ansible/roles/weir/defaults/main.yml", ps_h.src);
    wr_yaml_opts_t o = {"the ansible defaults", 1 << 20, "one document"};
    wr_yaml_t *y = NULL;
    if (wr_yaml_load_file(defaults, &o, &y, &s_m.yaml_err)) fail_msg("%s", s_m.yaml_err.buf);
    s_m.doc[s_m.n++] = (s_doc_t){y, wr_yaml_root(y), defaults, NULL, NULL};
    node_t *pkgs = s_key(wr_yaml_root(y), "weir_packages");
    if (!s_len(pkgs)) fail_msg("%s: no weir_packages", defaults);
    for (uint32_t i = 0; i < pkgs->n; i++)
        if (!strstr(docker, ps_fmt(" %s ", s_text(pkgs->items[i]))) &&
            !strstr(docker, ps_fmt(" %s\n", s_text(pkgs->items[i]))))
            fail_msg("the Dockerfile does not install %s (weir_packages)", s_text(pkgs->items[i]));
    if (!strstr(docker, ps_fmt("build/release/weir %s\n", S_WEIR_PATH)))
        fail_msg("the Dockerfile does not put weir at %s", S_WEIR_PATH);
    print_message("  %u packages, weir at %s\n", pkgs->n, S_WEIR_PATH);
}

static int s_setup(void **state)
{
    wr_strbuf_init(&s_m.yaml_err);
    wr_strbuf_init(&s_m.problems);
    return ps_setup(state);
}

static int s_teardown(void **state)
{
    for (size_t i = 0; i < s_m.n; i++)
        wr_yaml_destroy(&s_m.doc[i].y);
    s_m.n = 0;
    wr_strbuf_release(&s_m.yaml_err);
    wr_strbuf_release(&s_m.problems);
    return ps_teardown(state);
}

static int s_group_setup(void **state)
{
    (void)state;
    return ps_group_setup("test_deploy_k8s", true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_manifests, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_dockerfile, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, s_group_setup, ps_group_teardown);
}
