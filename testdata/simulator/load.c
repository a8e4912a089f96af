/* Load nodes: load.0 … load.<N-1>, UInt64 counters that all step 1, 2, 3, …
 * together, rate times per second. Change k of every node carries the source
 * timestamp start + k/rate, so a consumer can check both order and spacing.
 *
 * Each change is its own write. A MonitoredItem with sampling interval 0 is
 * sampled by open62541 on every write (not cyclically), so with a queue large
 * enough for one publishing interval it reports every value, in order. */
#include "factorysim.h"

#include <stdio.h>
#include <stdlib.h>

#define LOAD_TICK_MS 10.0

struct Load {
    UA_NodeId *ids;
    size_t nodes;
    double rate;
    UA_UInt64 written;   /* changes made so far, per node */
    UA_DateTime startMono, startWall;
};

/* loadTick writes every change that is due by now. Counting from elapsed time
 * rather than from ticks keeps the long-run rate exact when a tick runs late
 * or the timer's period does not divide 1/rate. */
static void
loadTick(UA_Server *server, void *data) {
    Load *load = (Load *)data;
    UA_DateTime elapsed = UA_DateTime_nowMonotonic() - load->startMono;
    UA_UInt64 due = (UA_UInt64)((double)elapsed * load->rate / UA_DATETIME_SEC);
    for(UA_UInt64 k = load->written + 1; k <= due; k++) {
        UA_DateTime at = load->startWall +
            (UA_DateTime)((double)k * UA_DATETIME_SEC / load->rate);
        for(size_t i = 0; i < load->nodes; i++)
            writeScalar(server, &load->ids[i], &k, &UA_TYPES[UA_TYPES_UINT64], at);
    }
    if(due > load->written)
        load->written = due;
}

static UA_StatusCode
addLoadNodes(UA_Server *server, UA_UInt16 ns, Load *load) {
    UA_NodeId folder = UA_NODEID_STRING(ns, "load");
    UA_StatusCode res = addObject(server, ns, "load", "Load",
                                  UA_NODEID_NUMERIC(0, UA_NS0ID_OBJECTSFOLDER),
                                  true);
    UA_UInt64 zero = 0;
    UA_Variant v;
    UA_Variant_setScalar(&v, &zero, &UA_TYPES[UA_TYPES_UINT64]);
    for(size_t i = 0; i < load->nodes && res == UA_STATUSCODE_GOOD; i++) {
        char id[32];
        snprintf(id, sizeof(id), "load.%zu", i);
        load->ids[i] = UA_NODEID_STRING_ALLOC(ns, id);
        res = addVariable(server, ns, id, id, folder, &v, UA_ACCESSLEVELMASK_READ);
    }
    return res;
}

Load *
load_new(UA_Server *server, UA_UInt16 ns, size_t nodes, double rate) {
    Load *load = (Load *)calloc(1, sizeof(Load));
    if(!load)
        return NULL;
    load->nodes = nodes;
    load->rate = rate;
    load->ids = (UA_NodeId *)calloc(nodes ? nodes : 1, sizeof(UA_NodeId));
    if(!load->ids || addLoadNodes(server, ns, load) != UA_STATUSCODE_GOOD) {
        load_delete(load);
        return NULL;
    }
    return load;
}

/* load_start starts counting from now: value k is due at start + k/rate. */
UA_StatusCode
load_start(UA_Server *server, Load *load) {
    load->startMono = UA_DateTime_nowMonotonic();
    load->startWall = UA_DateTime_now();
    if(load->nodes == 0 || load->rate <= 0.0)
        return UA_STATUSCODE_GOOD;
    return UA_Server_addRepeatedCallback(server, loadTick, load, LOAD_TICK_MS,
                                         NULL);
}

void
load_delete(Load *load) {
    if(!load)
        return;
    if(load->ids) {
        for(size_t i = 0; i < load->nodes; i++)
            UA_NodeId_clear(&load->ids[i]);
        free(load->ids);
    }
    free(load);
}
