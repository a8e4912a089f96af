/* History (-history 1): every value written to a station variable of the
 * line and to a load node is kept by open62541's history plugin with its
 * memory backend, and served by HistoryRead (raw, with continuation points).
 *
 * The history lives in the server process: a restarted simulator starts with
 * none. Tests that need a gap the server can fill from history therefore cut
 * the connection (internal/testenv/proxy.go) instead of restarting it.
 *
 * Each node's current value is written once more when it is registered, so
 * that the history starts with the value a client sees first, with a source
 * timestamp (values set at node creation have none). */
#include "factorysim.h"

#include <open62541/plugin/historydata/history_data_backend_memory.h>
#include <open62541/plugin/historydata/history_data_gathering_default.h>
#include <open62541/plugin/historydata/history_database_default.h>

#include <stdio.h>
#include <string.h>

#define HISTORY_INITIAL_NODES 64    /* the stores grow by doubling */
#define HISTORY_INITIAL_VALUES 1024
#define HISTORY_RESPONSE_MAX 1000   /* values per node and response; more
                                     * continue with a continuation point */
#define HISTORY_MAX_CHILDREN 64

struct History {
    UA_HistoryDataGathering gathering;
    UA_HistoryDataBackend backend; /* one memory store for every node */
};

History *
history_new(UA_Server *server) {
    History *h = (History *)UA_calloc(1, sizeof(History));
    if(!h)
        return NULL;
    h->gathering = UA_HistoryDataGathering_Default(HISTORY_INITIAL_NODES);
    h->backend = UA_HistoryDataBackend_Memory(HISTORY_INITIAL_NODES,
                                              HISTORY_INITIAL_VALUES);
    UA_ServerConfig *cfg = UA_Server_getConfig(server);
    cfg->historyDatabase = UA_HistoryDatabase_default(h->gathering);
    /* Say so in Server/ServerCapabilities/HistoryServerCapabilities, which
     * clients read before they send HistoryRead. The server copied the
     * configuration's flag into the node when it was created, so the node
     * is written too. */
    cfg->historizingEnabled = true;
    cfg->accessHistoryDataCapability = true;
    cfg->maxReturnDataValues = HISTORY_RESPONSE_MAX;
    UA_Boolean yes = true;
    UA_Variant v;
    UA_Variant_setScalar(&v, &yes, &UA_TYPES[UA_TYPES_BOOLEAN]);
    if(UA_Server_writeValue(server,
                            UA_NODEID_NUMERIC(0, UA_NS0ID_HISTORYSERVERCAPABILITIES_ACCESSHISTORYDATACAPABILITY),
                            v) != UA_STATUSCODE_GOOD) {
        history_delete(h);
        return NULL;
    }
    return h;
}

/* rewrite writes a node's current value again, stamped now, through the
 * write service: the value history starts with. */
static UA_StatusCode
rewrite(UA_Server *server, const UA_NodeId *id) {
    UA_Variant v;
    UA_StatusCode res = UA_Server_readValue(server, *id, &v);
    if(res != UA_STATUSCODE_GOOD)
        return res;
    if(UA_Variant_isScalar(&v))
        res = writeScalar(server, id, v.data, v.type, UA_DateTime_now());
    UA_Variant_clear(&v);
    return res;
}

/* historize registers one variable for history and marks it historizing and
 * history-readable. */
static UA_StatusCode
historize(UA_Server *server, History *h, const UA_NodeId *id) {
    UA_HistorizingNodeIdSettings s;
    memset(&s, 0, sizeof(s));
    s.historizingBackend = h->backend;
    s.maxHistoryDataResponseSize = HISTORY_RESPONSE_MAX;
    s.historizingUpdateStrategy = UA_HISTORIZINGUPDATESTRATEGY_VALUESET;
    UA_StatusCode res = h->gathering.registerNodeId(server, h->gathering.context, id, s);
    res |= UA_Server_writeHistorizing(server, *id, true);
    UA_Byte access = 0;
    res |= UA_Server_readAccessLevel(server, *id, &access);
    res |= UA_Server_writeAccessLevel(server, *id, access | UA_ACCESSLEVELMASK_HISTORYREAD);
    return res | rewrite(server, id);
}

/* historizeChildren historizes the variables parent has a HasComponent
 * reference to. */
static UA_StatusCode
historizeChildren(UA_Server *server, History *h, UA_NodeId parent) {
    UA_BrowseDescription bd;
    UA_BrowseDescription_init(&bd);
    bd.nodeId = parent;
    bd.browseDirection = UA_BROWSEDIRECTION_FORWARD;
    bd.referenceTypeId = UA_NODEID_NUMERIC(0, UA_NS0ID_HIERARCHICALREFERENCES);
    bd.includeSubtypes = true;
    bd.nodeClassMask = UA_NODECLASS_VARIABLE;
    UA_BrowseResult br = UA_Server_browse(server, HISTORY_MAX_CHILDREN, &bd);
    UA_StatusCode res = br.statusCode;
    for(size_t i = 0; i < br.referencesSize && res == UA_STATUSCODE_GOOD; i++)
        res = historize(server, h, &br.references[i].nodeId.nodeId);
    UA_BrowseResult_clear(&br);
    return res;
}

UA_StatusCode
history_start(UA_Server *server, History *h, UA_UInt16 nsStation,
              UA_UInt16 nsLoad, size_t loadNodes) {
    static const char *const stations[3] = {"assembly", "test", "packaging"};
    UA_StatusCode res = UA_STATUSCODE_GOOD;
    for(size_t i = 0; h && i < 3; i++)
        res |= historizeChildren(server, h,
                                 UA_NODEID_STRING(nsStation, (char *)(uintptr_t)stations[i]));
    for(size_t i = 0; h && i < loadNodes && res == UA_STATUSCODE_GOOD; i++) {
        char id[32];
        snprintf(id, sizeof(id), "load.%zu", i);
        UA_NodeId nid = UA_NODEID_STRING(nsLoad, id);
        res = historize(server, h, &nid);
    }
    return res;
}

void
history_delete(History *h) {
    if(!h)
        return;
    /* The server's history database (and with it the gathering) is freed
     * by UA_Server_delete; the backend is ours. */
    UA_HistoryDataBackend_Memory_clear(&h->backend);
    UA_free(h);
}
