/* The Connected Factory line: three independent stations that cycle on
 * simulated time. Each station has its own PRNG seeded from -seed and its
 * index, and every transition happens at a simulated instant computed from the
 * previous one, so the sequence of states and values depends only on the seed,
 * never on how often the tick callback runs or how loaded the machine is. */
#include "factorysim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICK_SIM_MS 100.0   /* tick every 100 simulated ms … */
#define TICK_MIN_MS 10.0    /* … but not more often than this (real ms) */
#define HANDOVER_MS 500.0     /* Ready and Done/Discarded each last this long */
#define DISCARD_PERCENT 5
#define FAULT_PERCENT 3
#define FAULT_MIN_MS 10000
#define FAULT_MAX_MS 60000
#define IDEAL_MIN_MS 100      /* bounds for a client-written IdealCycleTime */
#define IDEAL_MAX_MS 3600000
#define AMBIENT_MBAR 1013.25

typedef enum {
    ST_READY = 0,
    ST_WORK_IN_PROGRESS = 1,
    ST_DONE = 2,
    ST_DISCARDED = 3,
    ST_FAULT = 4
} StationStatus;

typedef enum {
    V_GOOD, V_BAD, V_SERIAL, V_FAULTY, V_STATUS, V_ENERGY, V_PRESSURE,
    V_IDEAL, V_ACTUAL, V_REASON, V_COUNT
} StationVar;

static const char *const varNames[V_COUNT] = {
    "NumberOfManufacturedProducts", "NumberOfDiscardedProducts",
    "ProductSerialNumber", "FaultyTime", "Status", "EnergyConsumption",
    "Pressure", "IdealCycleTime", "ActualCycleTime", "StopReason"};

/* Stop reason codes, chosen by the fault's length so that the PRNG's
 * sequence (and so every run of a seed) stays what it was without them. */
enum { REASON_NONE = 0, REASON_JAM = 1, REASON_TOOL = 2, REASON_MATERIAL = 3 };

typedef struct { uint64_t s; } Rng;

typedef struct {
    const char *name;
    double baseEnergyKWh; /* per cycle at ideal speed */
    bool hasPressure;
    Rng rng;
    UA_NodeId ids[V_COUNT]; /* ids[V_PRESSURE] is null without pressure */
    StationStatus status;
    double next;            /* simulated ms of the next transition */
    UA_UInt64 good, bad, serial, faultyMs, idealMs, actualMs, faultMs;
    UA_UInt64 goodNode, badNode; /* what the counters show: wrapped, reset */
    UA_UInt32 reason;            /* the current fault's reason; 0 none */
    const LineOptions *opts;
    FILE *truth;            /* -truth: the ground-truth log, or NULL */
} Station;

struct Line {
    Station stations[3];
    LineOptions opts;
    bool resetDone;
    UA_DateTime startMono;
    FILE *truth;
};

/* splitmix64 spreads a small seed over all 64 bits (xorshift must not start
 * at 0, and nearby seeds should not give nearby sequences). */
static uint64_t
splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* xorshift64*: small, fast and the same on every platform, unlike rand(). */
static uint64_t
rngNext(Rng *r) {
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1DULL;
}

static double
rngUnit(Rng *r) { /* [0, 1) */
    return (double)(rngNext(r) >> 11) * 0x1.0p-53;
}

static uint64_t
rngRange(Rng *r, uint64_t lo, uint64_t hi) { /* [lo, hi] */
    return lo + rngNext(r) % (hi - lo + 1);
}

static void
writeU64(UA_Server *server, Station *st, StationVar v, UA_UInt64 x) {
    writeScalar(server, &st->ids[v], &x, &UA_TYPES[UA_TYPES_UINT64],
                UA_DateTime_now());
}

/* counterMask is the largest value of a -counter-bits counter. */
static UA_UInt64
counterMask(const LineOptions *o) {
    return o->counterBits >= 64 ? UINT64_MAX : (1ULL << o->counterBits) - 1;
}

/* writeCounter writes a part counter as the UInt16, UInt32 or UInt64 that
 * -counter-bits declares. */
static void
writeCounter(UA_Server *server, Station *st, StationVar v, UA_UInt64 x) {
    UA_UInt16 x16 = (UA_UInt16)x;
    UA_UInt32 x32 = (UA_UInt32)x;
    int bits = st->opts->counterBits;
    const void *p = bits == 16 ? (const void *)&x16 : bits == 32 ? (const void *)&x32 : (const void *)&x;
    const UA_DataType *t = &UA_TYPES[bits == 16 ? UA_TYPES_UINT16 : bits == 32 ? UA_TYPES_UINT32 : UA_TYPES_UINT64];
    writeScalar(server, &st->ids[v], p, t, UA_DateTime_now());
}

static void
writeDouble(UA_Server *server, Station *st, StationVar v, UA_Double x) {
    if(!UA_NodeId_isNull(&st->ids[v]))
        writeScalar(server, &st->ids[v], &x, &UA_TYPES[UA_TYPES_DOUBLE],
                    UA_DateTime_now());
}

/* writeTruth appends one line of the ground-truth log (README.md, "Ground
 * truth"): the station's state and counters from `at` on. It flushes, so the
 * log is complete up to the last change whenever the process ends. */
static void
writeTruth(const Station *st, const char *event, UA_DateTime at) {
    if(!st->truth)
        return;
    fprintf(st->truth,
            "{\"t_ns\":%lld,\"event\":\"%s\",\"station\":\"%s\",\"status\":%d,"
            "\"good\":%llu,\"bad\":%llu,\"faulty_ms\":%llu,\"reason\":%u,"
            "\"fault_len_ms\":%llu,\"good_node\":%llu,\"bad_node\":%llu}\n",
            (long long)(at - UA_DATETIME_UNIX_EPOCH) * 100, event, st->name,
            (int)st->status, (unsigned long long)st->good,
            (unsigned long long)st->bad, (unsigned long long)st->faultyMs,
            (unsigned)st->reason,
            (unsigned long long)(st->status == ST_FAULT ? st->faultMs : 0),
            (unsigned long long)st->goodNode,
            (unsigned long long)st->badNode);
    fflush(st->truth);
}

/* setStatus writes Status; the truth log gets the same source timestamp. */
static void
setStatus(UA_Server *server, Station *st, StationStatus s) {
    StationStatus from = st->status;
    st->status = s;
    UA_Int32 x = (UA_Int32)s;
    UA_DateTime now = UA_DateTime_now();
    writeScalar(server, &st->ids[V_STATUS], &x, &UA_TYPES[UA_TYPES_INT32], now);
    writeTruth(st, "state", now);
    events_status(server, st->name, (int)from, (int)s, st->faultMs, now);
}

/* readIdeal picks up a client's write to IdealCycleTime at the start of the
 * next cycle, as a real station would after a changeover. */
static UA_UInt64
readIdeal(UA_Server *server, Station *st) {
    UA_Variant v;
    if(UA_Server_readValue(server, st->ids[V_IDEAL], &v) != UA_STATUSCODE_GOOD)
        return st->idealMs;
    if(UA_Variant_hasScalarType(&v, &UA_TYPES[UA_TYPES_UINT64])) {
        UA_UInt64 x = *(UA_UInt64 *)v.data;
        st->idealMs = x < IDEAL_MIN_MS ? IDEAL_MIN_MS
                    : x > IDEAL_MAX_MS ? IDEAL_MAX_MS : x;
    }
    UA_Variant_clear(&v);
    return st->idealMs;
}

static void
startWork(UA_Server *server, Station *st, double at) {
    UA_UInt64 ideal = readIdeal(server, st);
    st->actualMs = (UA_UInt64)((double)ideal * (1.0 + 0.3 * rngUnit(&st->rng)));
    st->serial++;
    writeU64(server, st, V_SERIAL, st->serial);
    writeDouble(server, st, V_PRESSURE, 2500.0 + 500.0 * rngUnit(&st->rng));
    setStatus(server, st, ST_WORK_IN_PROGRESS);
    st->next = at + (double)st->actualMs;
}

static void
finishWork(UA_Server *server, Station *st, double at) {
    double ratio = (double)st->actualMs / (double)st->idealMs;
    double energy = st->baseEnergyKWh * ratio * (0.95 + 0.1 * rngUnit(&st->rng));
    writeU64(server, st, V_ACTUAL, st->actualMs);
    writeDouble(server, st, V_ENERGY, energy);
    writeDouble(server, st, V_PRESSURE, AMBIENT_MBAR);
    UA_UInt64 mask = counterMask(st->opts);
    if(rngRange(&st->rng, 1, 100) <= DISCARD_PERCENT) {
        st->bad++;
        st->badNode = (st->badNode + 1) & mask;
        writeCounter(server, st, V_BAD, st->badNode);
        setStatus(server, st, ST_DISCARDED);
    } else {
        st->good++;
        st->goodNode = (st->goodNode + 1) & mask;
        writeCounter(server, st, V_GOOD, st->goodNode);
        setStatus(server, st, ST_DONE);
    }
    st->next = at + HANDOVER_MS;
}

static void
afterProduct(UA_Server *server, Station *st, double at) {
    if(rngRange(&st->rng, 1, 100) <= FAULT_PERCENT) {
        UA_UInt64 drawn = rngRange(&st->rng, FAULT_MIN_MS, FAULT_MAX_MS);
        st->reason = drawn < 20000 ? REASON_JAM : drawn < 40000 ? REASON_TOOL : REASON_MATERIAL;
        st->faultMs = (UA_UInt64)((double)drawn * st->opts->faultScale);
        writeScalar(server, &st->ids[V_REASON], &st->reason,
                    &UA_TYPES[UA_TYPES_UINT32], UA_DateTime_now());
        setStatus(server, st, ST_FAULT);
        st->next = at + (double)st->faultMs;
        return;
    }
    setStatus(server, st, ST_READY);
    st->next = at + HANDOVER_MS;
}

/* resetFault adds the whole fault to FaultyTime at once, like the Connected
 * Factory station: consumers see FaultyTime jump when the fault is cleared. */
static void
resetFault(UA_Server *server, Station *st, double at) {
    st->faultyMs += st->faultMs;
    writeU64(server, st, V_FAULTY, st->faultyMs);
    st->reason = REASON_NONE; /* cleared with the fault, after Ready */
    setStatus(server, st, ST_READY);
    writeScalar(server, &st->ids[V_REASON], &st->reason,
                &UA_TYPES[UA_TYPES_UINT32], UA_DateTime_now());
    st->next = at + HANDOVER_MS;
}

/* resetCounters zeroes both part counters at once, as a PLC's counter reset
 * does (-reset-at); the truth log gets a "reset" line. */
static void
resetCounters(UA_Server *server, Station *st) {
    st->goodNode = st->badNode = 0;
    writeCounter(server, st, V_GOOD, 0);
    writeCounter(server, st, V_BAD, 0);
    writeTruth(st, "reset", UA_DateTime_now());
}

static void
step(UA_Server *server, Station *st) {
    double at = st->next;
    switch(st->status) {
    case ST_READY: startWork(server, st, at); break;
    case ST_WORK_IN_PROGRESS: finishWork(server, st, at); break;
    case ST_DONE:
    case ST_DISCARDED: afterProduct(server, st, at); break;
    case ST_FAULT: resetFault(server, st, at); break;
    }
}

/* advance makes every station's transitions due by simulated ms `until`. */
static void
advance(UA_Server *server, Line *line, double until) {
    for(size_t i = 0; i < 3; i++) {
        Station *st = &line->stations[i];
        while(st->next <= until) /* a fast line may owe several transitions */
            step(server, st);
    }
}

static void
lineTick(UA_Server *server, void *data) {
    Line *line = (Line *)data;
    double now = (double)(UA_DateTime_nowMonotonic() - line->startMono) /
                 UA_DATETIME_MSEC * line->opts.speed;
    double resetAt = line->opts.resetAtS * 1000.0;
    if(!line->resetDone && line->opts.resetAtS >= 0 && resetAt <= now) {
        advance(server, line, resetAt);
        for(size_t i = 0; i < 3; i++)
            resetCounters(server, &line->stations[i]);
        line->resetDone = true;
    }
    advance(server, line, now);
}

static UA_StatusCode
addStationVar(UA_Server *server, UA_UInt16 ns, Station *st, StationVar v,
              const void *value, int typeIndex) {
    UA_UInt16 x16 = (UA_UInt16)st->goodNode; /* counters start at -counter-start */
    UA_UInt32 x32 = (UA_UInt32)st->goodNode;
    if(v == V_GOOD || v == V_BAD) {
        int bits = st->opts->counterBits;
        typeIndex = bits == 16 ? UA_TYPES_UINT16 : bits == 32 ? UA_TYPES_UINT32 : UA_TYPES_UINT64;
        value = bits == 16 ? (const void *)&x16 : bits == 32 ? (const void *)&x32 : (const void *)&st->goodNode;
    }
    char id[96];
    snprintf(id, sizeof(id), "%s.%s", st->name, varNames[v]);
    st->ids[v] = UA_NODEID_STRING_ALLOC(ns, id);
    UA_Variant var;
    UA_Variant_setScalar(&var, (void *)(uintptr_t)value, &UA_TYPES[typeIndex]);
    UA_Byte access = UA_ACCESSLEVELMASK_READ;
    if(v == V_IDEAL)
        access |= UA_ACCESSLEVELMASK_WRITE;
    return addVariable(server, ns, id, varNames[v],
                       UA_NODEID_STRING(ns, (char *)(uintptr_t)st->name), &var,
                       access);
}

static UA_StatusCode
addStation(UA_Server *server, UA_UInt16 ns, Station *st) {
    UA_NodeId line = UA_NODEID_STRING(ns, "line");
    UA_StatusCode res = addObject(server, ns, st->name, st->name, line, false);
    UA_UInt64 zero = 0;
    UA_Int32 ready = ST_READY;
    UA_Double noEnergy = 0.0, ambient = AMBIENT_MBAR;
    res |= addStationVar(server, ns, st, V_GOOD, &zero, UA_TYPES_UINT64);
    res |= addStationVar(server, ns, st, V_BAD, &zero, UA_TYPES_UINT64);
    res |= addStationVar(server, ns, st, V_SERIAL, &zero, UA_TYPES_UINT64);
    res |= addStationVar(server, ns, st, V_FAULTY, &zero, UA_TYPES_UINT64);
    res |= addStationVar(server, ns, st, V_STATUS, &ready, UA_TYPES_INT32);
    res |= addStationVar(server, ns, st, V_ENERGY, &noEnergy, UA_TYPES_DOUBLE);
    if(st->hasPressure)
        res |= addStationVar(server, ns, st, V_PRESSURE, &ambient, UA_TYPES_DOUBLE);
    res |= addStationVar(server, ns, st, V_IDEAL, &st->idealMs, UA_TYPES_UINT64);
    res |= addStationVar(server, ns, st, V_ACTUAL, &zero, UA_TYPES_UINT64);
    res |= addStationVar(server, ns, st, V_REASON, &st->reason, UA_TYPES_UINT32);
    return res;
}

static void
initStation(Station *st, size_t index, const LineOptions *o) {
    uint64_t seed = o->seed;
    static const char *const names[3] = {"assembly", "test", "packaging"};
    static const double energy[3] = {0.30, 0.12, 0.20};
    memset(st, 0, sizeof(*st));
    st->name = names[index];
    st->baseEnergyKWh = energy[index];
    st->hasPressure = index == 0;
    st->rng.s = splitmix64(seed * 3 + index) | 1; /* never 0 */
    st->idealMs = rngRange(&st->rng, 40, 110) * 100; /* 4-11 s in 0.1 s */
    st->status = ST_READY;
    st->next = HANDOVER_MS;
    st->opts = o;
    st->goodNode = st->badNode = o->counterStart & counterMask(o);
}

Line *
line_new(UA_Server *server, UA_UInt16 ns, const LineOptions *o) {
    Line *line = (Line *)calloc(1, sizeof(Line));
    if(!line)
        return NULL;
    line->opts = *o;
    UA_StatusCode res = addObject(server, ns, "line", "FactoryLine",
                                  UA_NODEID_NUMERIC(0, UA_NS0ID_OBJECTSFOLDER),
                                  false);
    for(size_t i = 0; i < 3; i++) {
        initStation(&line->stations[i], i, &line->opts);
        res |= addStation(server, ns, &line->stations[i]);
    }
    if(res != UA_STATUSCODE_GOOD) {
        line_delete(line);
        return NULL;
    }
    return line;
}

int
line_truth(Line *line, const char *path) {
    line->truth = fopen(path, "a");
    for(size_t i = 0; i < 3; i++)
        line->stations[i].truth = line->truth;
    return line->truth != NULL;
}

void
line_stop(Line *line) {
    UA_DateTime now = UA_DateTime_now();
    for(size_t i = 0; line && i < 3; i++)
        writeTruth(&line->stations[i], "stop", now);
}

UA_StatusCode
line_start(UA_Server *server, Line *line) {
    UA_DateTime now = UA_DateTime_now();
    for(size_t i = 0; i < 3; i++)
        writeTruth(&line->stations[i], "start", now);
    line->startMono = UA_DateTime_nowMonotonic();
    double tick = TICK_SIM_MS / line->opts.speed;
    return UA_Server_addRepeatedCallback(
        server, lineTick, line, tick < TICK_MIN_MS ? TICK_MIN_MS : tick, NULL);
}

void
line_delete(Line *line) {
    if(!line)
        return;
    if(line->truth)
        fclose(line->truth);
    for(size_t i = 0; i < 3; i++)
        for(size_t v = 0; v < V_COUNT; v++)
            UA_NodeId_clear(&line->stations[i].ids[v]);
    free(line);
}
