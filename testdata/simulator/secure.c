/* secure.c: the simulator's secure mode (-secure 1). Encrypted endpoints with
 * the server certificate and key given as DER files, a trust list of client
 * certificates read from a directory, and username/password logins. The
 * default (no -secure) configuration in factorysim.c is left untouched. */
#define _DEFAULT_SOURCE /* opendir, readdir under -std=c11 */

#include "factorysim.h"

#include <open62541/plugin/accesscontrol_default.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* readFile loads a whole file; an empty ByteString means it failed. */
static UA_ByteString
readFile(const char *path) {
    UA_ByteString b = UA_BYTESTRING_NULL;
    FILE *f = fopen(path, "rb");
    if(!f)
        return b;
    if(fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if(n > 0 && fseek(f, 0, SEEK_SET) == 0 &&
           UA_ByteString_allocBuffer(&b, (size_t)n) == UA_STATUSCODE_GOOD &&
           fread(b.data, 1, b.length, f) != b.length)
            UA_ByteString_clear(&b);
    }
    fclose(f);
    return b;
}

/* readTrustDir loads every *.der file of dir (none when dir is NULL). */
static UA_StatusCode
readTrustDir(const char *dir, UA_ByteString **list, size_t *n) {
    *list = NULL;
    *n = 0;
    if(!dir)
        return UA_STATUSCODE_GOOD;
    DIR *d = opendir(dir);
    if(!d)
        return UA_STATUSCODE_BADNOTFOUND;
    struct dirent *e;
    while((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if(len < 5 || strcmp(e->d_name + len - 4, ".der") != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        UA_ByteString b = readFile(path);
        UA_ByteString *grown = realloc(*list, (*n + 1) * sizeof(UA_ByteString));
        if(b.length == 0 || !grown) {
            UA_ByteString_clear(&b);
            if(grown)
                *list = grown;
            continue;
        }
        *list = grown;
        (*list)[(*n)++] = b;
    }
    closedir(d);
    return UA_STATUSCODE_GOOD;
}

static void
freeList(UA_ByteString *list, size_t n) {
    for(size_t i = 0; i < n; i++)
        UA_ByteString_clear(&list[i]);
    free(list);
}

/* parseUsers splits "user:pass,user2:pass2" into logins; the strings point
 * into a copy that *buf owns. */
static size_t
parseUsers(const char *spec, char **buf, UA_UsernamePasswordLogin *logins,
           size_t max) {
    size_t n = 0;
    *buf = strdup(spec);
    for(char *tok = strtok(*buf, ","); tok && n < max; tok = strtok(NULL, ",")) {
        char *colon = strchr(tok, ':');
        if(!colon)
            continue;
        *colon = '\0';
        logins[n].username = UA_STRING(tok);
        logins[n].password = UA_STRING(colon + 1);
        n++;
    }
    return n;
}

/* setUsers replaces anonymous access by the given logins. */
static UA_StatusCode
setUsers(UA_ServerConfig *cfg, const char *users) {
    UA_UsernamePasswordLogin logins[16];
    char *buf = NULL;
    size_t n = parseUsers(users, &buf, logins, 16);
    UA_StatusCode res = n == 0 ? UA_STATUSCODE_BADINVALIDARGUMENT
        : UA_AccessControl_default(cfg, false, NULL, n, logins);
    free(buf); /* UA_AccessControl_default copies the logins */
    return res;
}

static UA_StatusCode
setApplicationUri(UA_ServerConfig *cfg, const char *uri) {
    UA_String_clear(&cfg->applicationDescription.applicationUri);
    cfg->applicationDescription.applicationUri = UA_STRING_ALLOC(uri);
    return cfg->applicationDescription.applicationUri.length > 0
               ? UA_STATUSCODE_GOOD : UA_STATUSCODE_BADOUTOFMEMORY;
}

UA_StatusCode
secure_configure(UA_ServerConfig *cfg, long port, const SecureOptions *s) {
    UA_ByteString cert = readFile(s->cert), key = readFile(s->key);
    UA_ByteString *trust;
    size_t trustN;
    UA_StatusCode res = readTrustDir(s->trustDir, &trust, &trustN);
    if(cert.length == 0 || key.length == 0)
        res = UA_STATUSCODE_BADCERTIFICATEINVALID;
    if(res == UA_STATUSCODE_GOOD)
        res = UA_ServerConfig_setDefaultWithSecurityPolicies(
            cfg, (UA_UInt16)port, &cert, &key, trust, trustN, NULL, 0, NULL, 0);
    if(res == UA_STATUSCODE_GOOD && s->users)
        res = setUsers(cfg, s->users);
    if(res == UA_STATUSCODE_GOOD)
        res = setApplicationUri(cfg, s->appUri);
    UA_ByteString_clear(&cert);
    UA_ByteString_clear(&key);
    freeList(trust, trustN);
    return res;
}
