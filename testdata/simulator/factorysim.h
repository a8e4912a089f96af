/* Shared declarations of the factorysim parts: the Connected Factory line
 * (line.c), the load nodes (load.c), the type coverage nodes (types.c) and the
 * node helpers (nodes.c). factorysim.c wires them into one server. */
#ifndef FACTORYSIM_H
#define FACTORYSIM_H

#include <open62541/plugin/log.h>
#include <open62541/server.h>
#include <open62541/server_config_default.h>

#include <stdbool.h>
#include <stdint.h>

/* Namespace URIs. Clients resolve their indexes through the NamespaceArray;
 * the indexes (2, 3, 4 in this order) are not part of the contract. */
#define NS_URI_STATION "http://opcfoundation.org/UA/Station/"
#define NS_URI_LOAD "urn:factorybridge:load"
#define NS_URI_TYPES "urn:factorybridge:types"
#define NS_URI_HOSTILE "urn:factorybridge:hostile" /* only with -hostile 1 */

/* nodes.c: thin wrappers that fill in the attributes every node here shares. */
UA_StatusCode addObject(UA_Server *server, UA_UInt16 ns, const char *id,
                        const char *browseName, UA_NodeId parent, bool folder);
UA_StatusCode addVariable(UA_Server *server, UA_UInt16 ns, const char *id,
                          const char *browseName, UA_NodeId parent,
                          const UA_Variant *value, UA_Byte accessLevel);
UA_StatusCode writeScalar(UA_Server *server, const UA_NodeId *id,
                          const void *value, const UA_DataType *type,
                          UA_DateTime sourceTime);

/* line.c: three stations (assembly, test, packaging) that cycle on simulated
 * time, speed times faster than real time. */
typedef struct {
    uint64_t seed;         /* -seed */
    double speed;          /* -speed */
    int counterBits;       /* -counter-bits 16|32|64: the part counters' type */
    uint64_t counterStart; /* -counter-start N: both part counters' first value */
    double resetAtS;       /* -reset-at S: simulated s after the start at which
                            * every station's part counters reset; < 0 never */
    double faultScale;     /* -fault-scale F: fault lengths × F */
} LineOptions;
typedef struct Line Line;
Line *line_new(UA_Server *server, UA_UInt16 ns, const LineOptions *o);
UA_StatusCode line_start(UA_Server *server, Line *line);
void line_delete(Line *line);
/* -truth: append the ground-truth log to path (0 when it cannot be opened);
 * line_stop logs the end of the run. */
int line_truth(Line *line, const char *path);
void line_stop(Line *line);

/* load.c: count variables that each change rate times per second. */
typedef struct Load Load;
Load *load_new(UA_Server *server, UA_UInt16 ns, size_t nodes, double rate);
UA_StatusCode load_start(UA_Server *server, Load *load);
void load_delete(Load *load);

/* types.c: one variable per built-in type with fixed values. */
UA_StatusCode types_add(UA_Server *server, UA_UInt16 ns);

/* hostile.c: values that break careless clients (-hostile 1). */
typedef struct Hostile Hostile;
Hostile *hostile_new(UA_Server *server, UA_UInt16 ns);
UA_StatusCode hostile_start(UA_Server *server, Hostile *hostile); /* NULL: no-op */
void hostile_delete(Hostile *hostile);

/* secure.c: -secure 1 replaces the minimal (security None, anonymous)
 * configuration by encrypted endpoints, a client trust list, logins and X.509
 * user certificates. */
#define SIM_APP_URI "urn:factorybridge:factorysim"
typedef struct {
    int on;                /* -secure 1 */
    const char *cert;      /* -cert FILE: server certificate, DER */
    const char *key;       /* -key FILE: its private key, DER */
    const char *trustDir;  /* -trust-dir DIR: trusted client certificates (*.der) */
    const char *users;     /* -users user:pass[,user:pass]: no anonymous access */
    const char *userTrust; /* -user-trust DIR|FILE: trusted X.509 user certificates (DER) */
    const char *appUri;    /* -app-uri URI: must be the certificate's URI */
    int deprecated;        /* -deprecated 1: also Basic128Rsa15 and Basic256 */
} SecureOptions;
UA_StatusCode secure_configure(UA_ServerConfig *cfg, long port,
                               const SecureOptions *s);

/* history.c: -history 1 keeps every value written to the stations' variables
 * and the load nodes in open62541's memory history backend (HistoryRead raw).
 * history_new installs the history database in the server's configuration;
 * history_start registers the nodes once the address space is built. */
typedef struct History History;
History *history_new(UA_Server *server);
UA_StatusCode history_start(UA_Server *server, History *h, UA_UInt16 nsStation,
                            UA_UInt16 nsLoad, size_t loadNodes); /* NULL: no-op */
void history_delete(History *h);

/* events.c: FaultEventType and the events a station emits when it faults and
 * when the fault is cleared. events_status is a no-op before events_init. */
UA_StatusCode events_init(UA_Server *server, UA_UInt16 nsStation);
void events_status(UA_Server *server, const char *station, int from, int to,
                   UA_UInt64 faultMs, UA_DateTime at);

#endif
