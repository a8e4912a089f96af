/* Hostile nodes (-hostile 1): values a careless client chokes on, for the
 * fault tests (docs/faults.md, 8). Objects/Hostile (s=hostile) holds
 *   hostile.BigString      String     300 KiB of 'a'…'z', changes every second
 *   hostile.BigArray       Int32[100000]  element i = k + i, every second
 *                                    (beyond gopcua's default decoder limit
 *                                    of 65535 elements)
 *   hostile.InvalidUTF8    String     bytes that are not UTF-8, every second
 *   hostile.NaN            Double     NaN
 *   hostile.PosInf         Double     +Inf
 *   hostile.NegInf         Double     -Inf
 *   hostile.TypeChanging   BaseDataType  Int32 k, String "k", Double k + 0.5
 *                                    in turn, every second
 *   hostile.StatusFlipping Int32      k every second, status Good for even k
 *                                    and BadSensorFailure for odd k
 * where k = 1, 2, 3, … counts the seconds since the server started. */
#include "factorysim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOSTILE_TICK_MS 1000.0
#define BIG_STRING_BYTES (300 * 1024)
#define BIG_ARRAY_LEN 100000

struct Hostile {
    UA_UInt16 ns;
    UA_UInt32 k;
    char *big;       /* BIG_STRING_BYTES */
    UA_Int32 *array; /* BIG_ARRAY_LEN */
};

static UA_NodeId
hid(const Hostile *h, const char *name) {
    return UA_NODEID_STRING(h->ns, (char *)(uintptr_t)name);
}

static UA_StatusCode
writeValue(UA_Server *server, const Hostile *h, const char *name,
           UA_Variant *v, UA_StatusCode status) {
    UA_DataValue dv;
    UA_DataValue_init(&dv);
    dv.value = *v; /* shallow: the write copies it */
    dv.hasValue = true;
    dv.sourceTimestamp = UA_DateTime_now();
    dv.hasSourceTimestamp = true;
    dv.status = status;
    dv.hasStatus = status != UA_STATUSCODE_GOOD;
    return UA_Server_writeDataValue(server, hid(h, name), dv);
}

static void
writeBig(UA_Server *server, Hostile *h) {
    memset(h->big, 'a' + (int)(h->k % 26), BIG_STRING_BYTES);
    UA_String s = {BIG_STRING_BYTES, (UA_Byte *)h->big};
    UA_Variant v;
    UA_Variant_setScalar(&v, &s, &UA_TYPES[UA_TYPES_STRING]);
    writeValue(server, h, "hostile.BigString", &v, UA_STATUSCODE_GOOD);
    for(size_t i = 0; i < BIG_ARRAY_LEN; i++)
        h->array[i] = (UA_Int32)(h->k + i);
    UA_Variant_setArray(&v, h->array, BIG_ARRAY_LEN, &UA_TYPES[UA_TYPES_INT32]);
    writeValue(server, h, "hostile.BigArray", &v, UA_STATUSCODE_GOOD);
}

static void
writeSmall(UA_Server *server, Hostile *h) {
    char text[64];
    int n = snprintf(text, sizeof(text), "k=%u \xff\xfe \xc3\x28 \xed\xa0\x80 end", (unsigned)h->k);
    UA_String s = {(size_t)n, (UA_Byte *)text};
    UA_Variant v;
    UA_Variant_setScalar(&v, &s, &UA_TYPES[UA_TYPES_STRING]);
    writeValue(server, h, "hostile.InvalidUTF8", &v, UA_STATUSCODE_GOOD);

    UA_Int32 i = (UA_Int32)h->k;
    UA_Double d = h->k + 0.5;
    snprintf(text, sizeof(text), "%u", (unsigned)h->k);
    UA_String ks = UA_STRING(text);
    switch(h->k % 3) {
    case 0: UA_Variant_setScalar(&v, &i, &UA_TYPES[UA_TYPES_INT32]); break;
    case 1: UA_Variant_setScalar(&v, &ks, &UA_TYPES[UA_TYPES_STRING]); break;
    default: UA_Variant_setScalar(&v, &d, &UA_TYPES[UA_TYPES_DOUBLE]); break;
    }
    writeValue(server, h, "hostile.TypeChanging", &v, UA_STATUSCODE_GOOD);

    UA_Variant_setScalar(&v, &i, &UA_TYPES[UA_TYPES_INT32]);
    writeValue(server, h, "hostile.StatusFlipping", &v,
               h->k % 2 ? UA_STATUSCODE_BADSENSORFAILURE : UA_STATUSCODE_GOOD);
}

static void
hostileTick(UA_Server *server, void *data) {
    Hostile *h = (Hostile *)data;
    h->k++;
    writeBig(server, h);
    writeSmall(server, h);
}

/* addAny adds a variable of DataType BaseDataType, so that values of any
 * type may be written to it. */
static UA_StatusCode
addAny(UA_Server *server, UA_UInt16 ns, const char *id, const UA_Variant *v) {
    UA_VariableAttributes attr = UA_VariableAttributes_default;
    attr.displayName = UA_LOCALIZEDTEXT("", (char *)(uintptr_t)id);
    attr.dataType = UA_NODEID_NUMERIC(0, UA_NS0ID_BASEDATATYPE);
    attr.valueRank = UA_VALUERANK_ANY;
    attr.accessLevel = UA_ACCESSLEVELMASK_READ;
    attr.userAccessLevel = UA_ACCESSLEVELMASK_READ;
    attr.minimumSamplingInterval = 0.0;
    attr.value = *v;
    return UA_Server_addVariableNode(
        server, UA_NODEID_STRING(ns, (char *)(uintptr_t)id),
        UA_NODEID_STRING(ns, "hostile"), UA_NODEID_NUMERIC(0, UA_NS0ID_HASCOMPONENT),
        UA_QUALIFIEDNAME(ns, (char *)(uintptr_t)id),
        UA_NODEID_NUMERIC(0, UA_NS0ID_BASEDATAVARIABLETYPE), attr, NULL, NULL);
}

static UA_StatusCode
addDouble(UA_Server *server, UA_UInt16 ns, const char *id, UA_Double d) {
    UA_Variant v;
    UA_Variant_setScalar(&v, &d, &UA_TYPES[UA_TYPES_DOUBLE]);
    return addVariable(server, ns, id, id, UA_NODEID_STRING(ns, "hostile"), &v,
                       UA_ACCESSLEVELMASK_READ);
}

static UA_StatusCode
addHostileNodes(UA_Server *server, Hostile *h) {
    UA_UInt16 ns = h->ns;
    UA_StatusCode res = addObject(server, ns, "hostile", "Hostile",
                                  UA_NODEID_NUMERIC(0, UA_NS0ID_OBJECTSFOLDER), true);
    UA_String empty = UA_STRING("");
    UA_Int32 zero = 0;
    UA_Variant s, i, a;
    UA_Variant_setScalar(&s, &empty, &UA_TYPES[UA_TYPES_STRING]);
    UA_Variant_setScalar(&i, &zero, &UA_TYPES[UA_TYPES_INT32]);
    UA_Variant_setArray(&a, h->array, BIG_ARRAY_LEN, &UA_TYPES[UA_TYPES_INT32]);
    UA_NodeId parent = UA_NODEID_STRING(ns, "hostile");
    res |= addVariable(server, ns, "hostile.BigString", "hostile.BigString", parent, &s, UA_ACCESSLEVELMASK_READ);
    res |= addVariable(server, ns, "hostile.BigArray", "hostile.BigArray", parent, &a, UA_ACCESSLEVELMASK_READ);
    res |= addVariable(server, ns, "hostile.InvalidUTF8", "hostile.InvalidUTF8", parent, &s, UA_ACCESSLEVELMASK_READ);
    res |= addDouble(server, ns, "hostile.NaN", NAN);
    res |= addDouble(server, ns, "hostile.PosInf", INFINITY);
    res |= addDouble(server, ns, "hostile.NegInf", -INFINITY);
    res |= addAny(server, ns, "hostile.TypeChanging", &i);
    res |= addVariable(server, ns, "hostile.StatusFlipping", "hostile.StatusFlipping", parent, &i, UA_ACCESSLEVELMASK_READ);
    return res;
}

Hostile *
hostile_new(UA_Server *server, UA_UInt16 ns) {
    Hostile *h = (Hostile *)calloc(1, sizeof(Hostile));
    if(!h)
        return NULL;
    h->ns = ns;
    h->big = (char *)malloc(BIG_STRING_BYTES);
    h->array = (UA_Int32 *)calloc(BIG_ARRAY_LEN, sizeof(UA_Int32));
    if(!h->big || !h->array || addHostileNodes(server, h) != UA_STATUSCODE_GOOD) {
        hostile_delete(h);
        return NULL;
    }
    return h;
}

UA_StatusCode
hostile_start(UA_Server *server, Hostile *h) {
    if(!h)
        return UA_STATUSCODE_GOOD;
    return UA_Server_addRepeatedCallback(server, hostileTick, h, HOSTILE_TICK_MS, NULL);
}

void
hostile_delete(Hostile *h) {
    if(!h)
        return;
    free(h->big);
    free(h->array);
    free(h);
}
