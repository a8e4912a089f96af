/* secure.c: the simulator's secure mode (-secure 1). Encrypted endpoints with
 * the server certificate and key given as DER files, a trust list of client
 * certificates read from a directory, username/password logins, and a trust
 * list of X.509 user certificates. The default (no -secure) configuration in
 * factorysim.c is left untouched. */
#define _DEFAULT_SOURCE /* opendir, readdir under -std=c11 */

#include "factorysim.h"

#include <open62541/plugin/accesscontrol_default.h>
#include <open62541/plugin/pki_default.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* readTrustPath loads every *.der file of a directory, or one DER file. */
static UA_StatusCode
readTrustPath(const char *path, UA_ByteString **list, size_t *n) {
    *list = NULL;
    *n = 0;
    struct stat st;
    if(stat(path, &st) != 0)
        return UA_STATUSCODE_BADNOTFOUND;
    if(S_ISDIR(st.st_mode))
        return readTrustDir(path, list, n);
    UA_ByteString b = readFile(path);
    *list = b.length > 0 ? malloc(sizeof(UA_ByteString)) : NULL;
    if(!*list) {
        UA_ByteString_clear(&b);
        return UA_STATUSCODE_BADCERTIFICATEINVALID;
    }
    (*list)[0] = b;
    *n = 1;
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

/* setUserTrust makes the session PKI, which open62541's access control asks
 * about every X.509 identity token, trust exactly the certificates of path.
 * Without it open62541 gives the session PKI the client trust list. */
static UA_StatusCode
setUserTrust(UA_ServerConfig *cfg, const char *path) {
    UA_ByteString *trust;
    size_t n;
    UA_StatusCode res = readTrustPath(path, &trust, &n);
    if(res != UA_STATUSCODE_GOOD)
        return res;
    const UA_Logger *logging = cfg->sessionPKI.logging;
    if(cfg->sessionPKI.clear)
        cfg->sessionPKI.clear(&cfg->sessionPKI);
    memset(&cfg->sessionPKI, 0, sizeof(cfg->sessionPKI));
    cfg->sessionPKI.logging = logging;
    res = UA_CertificateVerification_Trustlist(&cfg->sessionPKI, trust, n,
                                               NULL, 0, NULL, 0);
    freeList(trust, n);
    return res;
}

/* addDeprecated adds the SHA-1 policies Basic128Rsa15 and Basic256, which
 * UA_ServerConfig_setDefaultWithSecurityPolicies leaves out, with Sign and
 * SignAndEncrypt endpoints: a server a client should not use them with. */
static UA_StatusCode
addDeprecated(UA_ServerConfig *cfg, const UA_ByteString *cert,
              const UA_ByteString *key) {
    UA_StatusCode res =
        UA_ServerConfig_addSecurityPolicyBasic128Rsa15(cfg, cert, key);
    if(res == UA_STATUSCODE_GOOD)
        res = UA_ServerConfig_addSecurityPolicyBasic256(cfg, cert, key);
    char b128[] = "http://opcfoundation.org/UA/SecurityPolicy#Basic128Rsa15";
    char b256[] = "http://opcfoundation.org/UA/SecurityPolicy#Basic256";
    char *uris[] = {b128, b256};
    for(size_t i = 0; i < 2 && res == UA_STATUSCODE_GOOD; i++) {
        res = UA_ServerConfig_addEndpoint(cfg, UA_STRING(uris[i]),
                                          UA_MESSAGESECURITYMODE_SIGN);
        if(res == UA_STATUSCODE_GOOD)
            res = UA_ServerConfig_addEndpoint(cfg, UA_STRING(uris[i]),
                                              UA_MESSAGESECURITYMODE_SIGNANDENCRYPT);
    }
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
    if(res == UA_STATUSCODE_GOOD && s->deprecated)
        res = addDeprecated(cfg, &cert, &key);
    /* Before setUsers: the access control offers X.509 tokens only while the
     * session PKI is set. */
    if(res == UA_STATUSCODE_GOOD && s->userTrust)
        res = setUserTrust(cfg, s->userTrust);
    if(res == UA_STATUSCODE_GOOD && s->users)
        res = setUsers(cfg, s->users);
    if(res == UA_STATUSCODE_GOOD)
        res = setApplicationUri(cfg, s->appUri);
    UA_ByteString_clear(&cert);
    UA_ByteString_clear(&key);
    freeList(trust, trustN);
    return res;
}
