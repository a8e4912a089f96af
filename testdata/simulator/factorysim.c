/* factorysim: an open62541 1.4 OPC UA server that plays a Connected Factory
 * line for factorybridge's integration tests. Built by scripts/open62541.sh
 * into .cache/bin/factorysim; started by internal/testenv.StartSimulator.
 *
 * Usage: factorysim [-port N] [-seed N] [-load-nodes N] [-rate R] [-speed F]
 *                   [-hostile 0|1] [-truth FILE] [-log-level L]
 *                   [-counter-bits 16|32|64] [-counter-start N] [-reset-at S]
 *                   [-fault-scale F]
 *   -port N        TCP port on 127.0.0.1 (default 4840). Only loopback is bound.
 *   -seed N        seed of the stations' PRNGs (default 1). Same seed, same
 *                  sequence of states and values.
 *   -load-nodes N  number of load nodes (default 0).
 *   -rate R        changes per second of every load node (default 10).
 *   -speed F       simulated time runs F times faster than real time for the
 *                  line (default 1; 50 turns a 5 s cycle into 0.1 s).
 *   -hostile 0|1   add the hostile namespace (d) (default 0).
 *   -truth FILE    append the line's ground truth to FILE: one JSON line per
 *                  station state change (README.md, "Ground truth").
 *   -counter-bits B  the part counters are UInt16, UInt32 or UInt64 (default
 *                  64) and wrap at that width.
 *   -counter-start N the part counters' first value (default 0).
 *   -reset-at S    reset every station's part counters to 0 at simulated
 *                  second S after the start (default: never).
 *   -fault-scale F multiply fault lengths by F (default 1).
 *   -history 0|1   keep the history of the stations' variables and the load
 *                  nodes for HistoryRead (default 0; history.c).
 *   -subscriptions 0|1  0: every CreateSubscription fails, for clients that
 *                  must read cyclically (default 1).
 *   -max-nodes-per-read N  the server's MaxNodesPerRead (default 0: no limit).
 *   -log-level L   trace|debug|info|warning|error|fatal (default warning).
 *                  The open62541 log goes to stderr; info logs every
 *                  MonitoredItem, hence the default.
 * Stdout carries exactly one line, "READY opc.tcp://127.0.0.1:<port>", once
 * the server listens. SIGTERM and SIGINT shut it down cleanly (exit 0). Exit 1
 * when the server cannot start (e.g. the port is taken), 2 on bad flags.
 *
 * Address space (all NodeIds are strings; "ns" is the index of the named
 * namespace URI in the server's NamespaceArray):
 *
 * (a) http://opcfoundation.org/UA/Station/ — Objects/FactoryLine (s=line) with
 *     three station objects s=assembly, s=test, s=packaging. Each has
 *       <station>.NumberOfManufacturedProducts UInt64  good products (monotonic)
 *       <station>.NumberOfDiscardedProducts    UInt64  discarded products
 *       <station>.ProductSerialNumber          UInt64  serial of the current or
 *                                                      last product (1, 2, …)
 *       <station>.FaultyTime                   UInt64  ms, sum of all faults,
 *                                                      written when one resets
 *       <station>.Status                       Int32   Ready=0 WorkInProgress=1
 *                                                      Done=2 Discarded=3 Fault=4
 *       <station>.EnergyConsumption            Double  kWh of the last cycle
 *       <station>.Pressure                     Double  mbar (assembly only):
 *                                                      2500–3000 while working,
 *                                                      1013.25 otherwise
 *       <station>.IdealCycleTime               UInt64  ms, 4000–11000 from the
 *                                                      seed; writable (read at
 *                                                      the next cycle start,
 *                                                      clamped to 100 ms–1 h)
 *       <station>.ActualCycleTime              UInt64  ms of the last cycle
 *       <station>.StopReason                   UInt32  the fault's reason
 *                                                      (1 jam, 2 tool, 3
 *                                                      material); 0 none
 *     The part counters are UInt16 or UInt32 with -counter-bits.
 *     A station cycles: Ready (0.5 s) → WorkInProgress (ideal × 1.0–1.3) →
 *     Done (95 %) or Discarded (5 %) for 0.5 s → Fault (3 % of cycles, 10–60 s)
 *     or Ready. Times are simulated (scaled by -speed); source timestamps are
 *     the real wall clock of the write.
 *
 * (b) urn:factorybridge:load — Objects/Load (s=load) with UInt64 variables
 *     load.0 … load.<N-1>. All start at 0 and step 1, 2, 3, … together, R times
 *     a second; change k has source timestamp start + k/R. Every change is a
 *     separate write, so a MonitoredItem with sampling interval 0 reports each.
 *
 * (c) urn:factorybridge:types — Objects/Types (s=types), read-only:
 *       types.Boolean        Boolean        true
 *       types.SByte          SByte          -128
 *       types.Byte           Byte           255
 *       types.Int16          Int16          -32768
 *       types.UInt16         UInt16         65535
 *       types.Int32          Int32          -2147483648
 *       types.UInt32         UInt32         4294967295
 *       types.Int64          Int64          -9223372036854775808
 *       types.UInt64         UInt64         18446744073709551615
 *       types.Float          Float          3.40282347e+38 (FLT_MAX)
 *       types.Double         Double         4.9406564584124654e-324 (smallest
 *                                           subnormal)
 *       types.String         String         "Grüße aus der Fabrik 🏭 工場"
 *       types.DateTime       DateTime       2024-02-29T12:34:56.789Z
 *       types.Guid           Guid           72962B91-FA75-4AE6-8D28-B404DC7DAF63
 *       types.ByteString     ByteString     00 01 7F 80 FE FF
 *       types.XmlElement     XmlElement     <station name="assembly">Grüße</station>
 *       types.NodeId         NodeId         ns=1;i=4294967295
 *       types.ExpandedNodeId ExpandedNodeId nsu=urn:factorybridge:types;s=types.String
 *       types.StatusCode     StatusCode     0x80340000 (BadNodeIdUnknown)
 *       types.QualifiedName  QualifiedName  1:FactoryBridge
 *       types.LocalizedText  LocalizedText  locale "de-DE", text "Störung an Station 3"
 *       types.Int32Array     Int32[5]       1, 2, 3, 4, 5
 *       types.DoubleArray    Double[3]      -1.5, 0, 2.25
 *       types.StringArray    String[3]      "alpha", "", "Ωmega"
 *       types.NotReadable    Int32          42, access level 0: Read and
 *                                           monitoring give BadNotReadable
 *
 * (d) urn:factorybridge:hostile, only with -hostile 1 — Objects/Hostile
 *     (s=hostile): oversized, invalid and changing values; see hostile.c.
 */
#include "factorysim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_LOAD_NODES 1000000

typedef struct {
    long port;
    LineOptions line; /* -seed, -speed, -counter-bits, -counter-start, -reset-at */
    long loadNodes;
    double rate;
    UA_LogLevel logLevel;
    int hostile;
    const char *truth; /* -truth FILE, or NULL */
    SecureOptions sec;
    int history;          /* -history 1 */
    int subscriptions;    /* -subscriptions 0 refuses them */
    long maxNodesPerRead; /* -max-nodes-per-read N; 0: no limit */
} Options;

static volatile sig_atomic_t running = 1;

static void
onSignal(int sig) {
    (void)sig;
    running = 0;
}

/* --- logging: open62541's stdout logger would mix with the READY line --- */

static const char *const levelNames[] = {"trace", "debug", "info",
                                         "warning", "error", "fatal"};

static void
logStderr(void *context, UA_LogLevel level, UA_LogCategory category,
          const char *msg, va_list args) {
    (void)category;
    if(level < *(const UA_LogLevel *)context)
        return;
    UA_DateTimeStruct t = UA_DateTime_toStruct(UA_DateTime_now());
    int i = level / 100 - 1;
    fprintf(stderr, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ %s ", t.year, t.month,
            t.day, t.hour, t.min, t.sec, t.milliSec,
            i >= 0 && i < 6 ? levelNames[i] : "?");
    vfprintf(stderr, msg, args);
    fputc('\n', stderr);
}

/* --- flags --- */

static int
parseLevel(const char *s, UA_LogLevel *out) {
    for(int i = 0; i < 6; i++) {
        if(strcmp(s, levelNames[i]) == 0) {
            *out = (UA_LogLevel)((i + 1) * 100);
            return 1;
        }
    }
    return 0;
}

static int
parseNumber(const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if(errno != 0 || end == s || *end != '\0' || !(x >= lo && x <= hi))
        return 0;
    *out = x;
    return 1;
}

/* setSecureFlag applies a flag of secure mode; it returns 0 for other names. */
static int
setSecureFlag(SecureOptions *s, const char *name, const char *val) {
    const char **dst = strcmp(name, "cert") == 0         ? &s->cert
                       : strcmp(name, "key") == 0        ? &s->key
                       : strcmp(name, "trust-dir") == 0  ? &s->trustDir
                       : strcmp(name, "users") == 0      ? &s->users
                       : strcmp(name, "user-trust") == 0 ? &s->userTrust
                       : strcmp(name, "app-uri") == 0    ? &s->appUri
                                                         : NULL;
    if(dst) {
        *dst = val;
        return 1;
    }
    int *flag = strcmp(name, "secure") == 0       ? &s->on
                : strcmp(name, "deprecated") == 0 ? &s->deprecated
                                                  : NULL;
    if(flag && (strcmp(val, "0") == 0 || strcmp(val, "1") == 0)) {
        *flag = val[0] == '1';
        return 1;
    }
    return 0;
}

/* setFlag applies one -name value pair; it returns 0 for an unknown name or a
 * bad value. */
static int
setFlag(Options *o, const char *name, const char *val) {
    double x;
    if(strcmp(name, "log-level") == 0)
        return parseLevel(val, &o->logLevel);
    if(strcmp(name, "truth") == 0) {
        o->truth = val;
        return val[0] != '\0';
    }
    if(setSecureFlag(&o->sec, name, val))
        return 1;
    if(strcmp(name, "port") == 0 && parseNumber(val, 1, 65535, &x))
        o->port = (long)x;
    else if(strcmp(name, "seed") == 0 && parseNumber(val, 0, 0x1p64, &x))
        o->line.seed = strtoull(val, NULL, 10);
    else if(strcmp(name, "load-nodes") == 0 &&
            parseNumber(val, 0, MAX_LOAD_NODES, &x))
        o->loadNodes = (long)x;
    else if(strcmp(name, "rate") == 0 && parseNumber(val, 0, 1e6, &x))
        o->rate = x;
    else if(strcmp(name, "speed") == 0 && parseNumber(val, 1e-3, 1e6, &x))
        o->line.speed = x;
    else if(strcmp(name, "counter-bits") == 0 && parseNumber(val, 16, 64, &x) &&
            (x == 16 || x == 32 || x == 64))
        o->line.counterBits = (int)x;
    else if(strcmp(name, "counter-start") == 0 && parseNumber(val, 0, 0x1p64, &x))
        o->line.counterStart = strtoull(val, NULL, 10);
    else if(strcmp(name, "reset-at") == 0 && parseNumber(val, 0, 1e9, &x))
        o->line.resetAtS = x;
    else if(strcmp(name, "fault-scale") == 0 && parseNumber(val, 0.01, 1000, &x))
        o->line.faultScale = x;
    else if(strcmp(name, "hostile") == 0 && parseNumber(val, 0, 1, &x))
        o->hostile = x == 1;
    else if(strcmp(name, "history") == 0 && parseNumber(val, 0, 1, &x))
        o->history = x == 1;
    else if(strcmp(name, "subscriptions") == 0 && parseNumber(val, 0, 1, &x))
        o->subscriptions = x == 1;
    else if(strcmp(name, "max-nodes-per-read") == 0 && parseNumber(val, 0, 1e6, &x))
        o->maxNodesPerRead = (long)x;
    else
        return 0;
    return 1;
}

/* parseArgs accepts -name value, --name value and -name=value. */
static int
parseArgs(int argc, char **argv, Options *o) {
    *o = (Options){4840, {1, 1.0, 64, 0, -1, 1.0}, 0, 10.0, UA_LOGLEVEL_WARNING, 0, NULL,
                   {0, NULL, NULL, NULL, NULL, NULL, SIM_APP_URI, 0},
                   0, 1, 0};
    for(int i = 1; i < argc; i++) {
        char name[32];
        const char *arg = argv[i], *val;
        arg += arg[0] == '-' && arg[1] == '-' ? 2 : arg[0] == '-' ? 1 : 0;
        const char *eq = strchr(arg, '=');
        size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
        if(arg == argv[i] || n >= sizeof(name) || (!eq && i + 1 >= argc)) {
            fprintf(stderr, "factorysim: bad argument %s\n", argv[i]);
            return 0;
        }
        memcpy(name, arg, n);
        name[n] = '\0';
        val = eq ? eq + 1 : argv[++i];
        if(!setFlag(o, name, val)) {
            fprintf(stderr, "factorysim: bad flag -%s %s\n", name, val);
            return 0;
        }
    }
    return 1;
}

/* --- port checks: open62541 does not report a failed listen --- */

/* loopbackSocket binds (listen=1) or connects (listen=0) a TCP socket to
 * 127.0.0.1:port and closes it again; it returns 0 on success. */
static int
loopbackSocket(long port, int listening) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if(fd < 0)
        return -1;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1, res;
    if(listening) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        res = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
        if(res == 0)
            res = listen(fd, 1);
    } else {
        res = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
    }
    close(fd);
    return res;
}

/* portFree tells whether nobody listens on the port. open62541 sets
 * SO_REUSEPORT on its listen socket, so a second server on a taken port would
 * silently share it with the first and receive some of its connections. The
 * probe sets SO_REUSEADDR only: it ignores TIME_WAIT (a restart on the same
 * port works) but fails on any listener. */
static int
portFree(long port) {
    return loopbackSocket(port, 1) == 0;
}

/* --- server --- */

/* bindLoopback replaces the default "opc.tcp://:<port>" (all interfaces). */
static UA_StatusCode
bindLoopback(UA_ServerConfig *cfg, long port) {
    char url[64];
    snprintf(url, sizeof(url), "opc.tcp://127.0.0.1:%ld", port);
    UA_String s = UA_STRING(url);
    UA_Array_delete(cfg->serverUrls, cfg->serverUrlsSize,
                    &UA_TYPES[UA_TYPES_STRING]);
    cfg->serverUrls = NULL;
    cfg->serverUrlsSize = 0;
    UA_StatusCode res = UA_Array_copy(&s, 1, (void **)&cfg->serverUrls,
                                      &UA_TYPES[UA_TYPES_STRING]);
    if(res == UA_STATUSCODE_GOOD)
        cfg->serverUrlsSize = 1;
    return res;
}

/* raiseLimits lets tests run thousands of MonitoredItems at high rates.
 * Sampling interval 0 is never revised (the limits apply to non-zero values
 * only). maxNotificationsPerPublish stays non-zero: 0 means zero in 1.4. */
static void
raiseLimits(UA_ServerConfig *cfg) {
    cfg->shutdownDelay = 0.0;
    cfg->maxSessions = 1000;
    cfg->maxSecureChannels = 1000;
    cfg->maxSubscriptions = 0;           /* unlimited */
    cfg->maxSubscriptionsPerSession = 0; /* unlimited */
    cfg->maxMonitoredItems = 0;          /* unlimited */
    cfg->maxMonitoredItemsPerSubscription = 0;
    cfg->maxMonitoredItemsPerCall = 10000;
    cfg->publishingIntervalLimits = (UA_DurationRange){10.0, 3600.0 * 1000.0};
    cfg->samplingIntervalLimits = (UA_DurationRange){5.0, 24.0 * 3600.0 * 1000.0};
    cfg->queueSizeLimits = (UA_UInt32Range){1, 100000};
    cfg->maxNotificationsPerPublish = 10000;
    cfg->keepAliveCountLimits = (UA_UInt32Range){1, 10000};
    cfg->lifeTimeCountLimits = (UA_UInt32Range){3, 100000};
}

/* limitServices applies -subscriptions 0 and -max-nodes-per-read. open62541
 * has no switch for the subscription service: a publishing interval range of
 * [0, 0] makes every CreateSubscription fail (BadInternalError: it cannot
 * schedule a publish callback at interval 0), which is what a client sees of
 * a server that does not do subscriptions. */
static void
limitServices(UA_ServerConfig *cfg, const Options *o) {
    if(!o->subscriptions)
        cfg->publishingIntervalLimits = (UA_DurationRange){0.0, 0.0};
    cfg->maxNodesPerRead = (UA_UInt32)o->maxNodesPerRead;
}

static UA_Server *
newServer(const Options *o, UA_Logger *logger) {
    UA_ServerConfig cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.logging = logger; /* before setMinimal, so its EventLoop logs here too */
    UA_StatusCode res = o->sec.on
        ? secure_configure(&cfg, o->port, &o->sec)
        : UA_ServerConfig_setMinimal(&cfg, (UA_UInt16)o->port, NULL);
    if(res != UA_STATUSCODE_GOOD) {
        fprintf(stderr, "factorysim: configure: %s\n", UA_StatusCode_name(res));
        UA_ServerConfig_clean(&cfg);
        return NULL;
    }
    if(bindLoopback(&cfg, o->port) != UA_STATUSCODE_GOOD) {
        UA_ServerConfig_clean(&cfg);
        return NULL;
    }
    raiseLimits(&cfg);
    limitServices(&cfg, o);
    UA_Server *server = UA_Server_newWithConfig(&cfg);
    if(!server)
        UA_ServerConfig_clean(&cfg);
    return server;
}

typedef struct {
    Line *line;
    Load *load;
    Hostile *hostile;
    History *history;
} Sim;

static int
buildAddressSpace(UA_Server *server, const Options *o, Sim *sim) {
    UA_UInt16 nsStation = UA_Server_addNamespace(server, NS_URI_STATION);
    UA_UInt16 nsLoad = UA_Server_addNamespace(server, NS_URI_LOAD);
    UA_UInt16 nsTypes = UA_Server_addNamespace(server, NS_URI_TYPES);
    if(o->history && !(sim->history = history_new(server)))
        return 0;
    sim->line = line_new(server, nsStation, &o->line);
    sim->load = load_new(server, nsLoad, (size_t)o->loadNodes, o->rate);
    if(!sim->line || !sim->load ||
       events_init(server, nsStation) != UA_STATUSCODE_GOOD ||
       history_start(server, sim->history, nsStation, nsLoad,
                     (size_t)o->loadNodes) != UA_STATUSCODE_GOOD)
        return 0;
    if(o->hostile) {
        UA_UInt16 nsHostile = UA_Server_addNamespace(server, NS_URI_HOSTILE);
        if(!(sim->hostile = hostile_new(server, nsHostile)))
            return 0;
    }
    return sim->line && sim->load &&
           types_add(server, nsTypes) == UA_STATUSCODE_GOOD;
}

/* startup starts the server and checks that it really listens, since
 * open62541 only logs a failed bind. */
static int
startup(UA_Server *server, long port) {
    if(!portFree(port)) {
        fprintf(stderr, "factorysim: 127.0.0.1:%ld: address in use\n", port);
        return 0;
    }
    UA_StatusCode res = UA_Server_run_startup(server);
    if(res != UA_STATUSCODE_GOOD) {
        fprintf(stderr, "factorysim: start server on 127.0.0.1:%ld: %s\n",
                port, UA_StatusCode_name(res));
        return 0;
    }
    if(loopbackSocket(port, 0) != 0) {
        fprintf(stderr, "factorysim: not listening on 127.0.0.1:%ld\n", port);
        UA_Server_run_shutdown(server);
        return 0;
    }
    return 1;
}

static int
serve(UA_Server *server, const Options *o, Sim *sim) {
    if(o->truth && !line_truth(sim->line, o->truth)) {
        fprintf(stderr, "factorysim: open -truth %s\n", o->truth);
        return 1;
    }
    if(!startup(server, o->port))
        return 1;
    UA_StatusCode res = line_start(server, sim->line) |
                        load_start(server, sim->load) |
                        hostile_start(server, sim->hostile);
    if(res == UA_STATUSCODE_GOOD) {
        printf("READY opc.tcp://127.0.0.1:%ld\n", o->port);
        fflush(stdout);
        while(running)
            UA_Server_run_iterate(server, true);
        line_stop(sim->line);
    }
    UA_Server_run_shutdown(server);
    return res == UA_STATUSCODE_GOOD ? 0 : 1;
}

static void
installSignals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a closed stdout must not kill the server */
}

int
main(int argc, char **argv) {
    Options o;
    if(!parseArgs(argc, argv, &o))
        return 2;
    installSignals();
    UA_Logger logger = {logStderr, &o.logLevel, NULL};
    UA_Server *server = newServer(&o, &logger);
    if(!server) {
        fprintf(stderr, "factorysim: configure server\n");
        return 1;
    }
    Sim sim = {NULL, NULL, NULL, NULL};
    int rc = 1;
    if(buildAddressSpace(server, &o, &sim))
        rc = serve(server, &o, &sim);
    else
        fprintf(stderr, "factorysim: build address space\n");
    UA_Server_delete(server);
    line_delete(sim.line);
    load_delete(sim.load);
    hostile_delete(sim.hostile);
    history_delete(sim.history);
    return rc;
}
