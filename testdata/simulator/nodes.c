/* Node helpers: every simulator node has a string NodeId equal to its
 * documented name, a browse name in its own namespace, and a display name
 * equal to the browse name. */
#include "factorysim.h"

UA_StatusCode
addObject(UA_Server *server, UA_UInt16 ns, const char *id,
          const char *browseName, UA_NodeId parent, bool folder) {
    UA_ObjectAttributes attr = UA_ObjectAttributes_default;
    attr.displayName = UA_LOCALIZEDTEXT("", (char *)(uintptr_t)browseName);
    UA_NodeId type = UA_NODEID_NUMERIC(0, folder ? UA_NS0ID_FOLDERTYPE
                                                 : UA_NS0ID_BASEOBJECTTYPE);
    UA_NodeId ref = UA_NODEID_NUMERIC(0, folder ? UA_NS0ID_ORGANIZES
                                                : UA_NS0ID_HASCOMPONENT);
    return UA_Server_addObjectNode(
        server, UA_NODEID_STRING(ns, (char *)(uintptr_t)id), parent, ref,
        UA_QUALIFIEDNAME(ns, (char *)(uintptr_t)browseName), type, attr, NULL,
        NULL);
}

/* addVariable declares the DataType, ValueRank and ArrayDimensions from the
 * value itself, so that a client reading the attributes sees what it gets.
 * Sampling interval 0 is the node's minimum, which keeps a MonitoredItem with
 * sampling interval 0 at 0 (sampled on every write). */
UA_StatusCode
addVariable(UA_Server *server, UA_UInt16 ns, const char *id,
            const char *browseName, UA_NodeId parent, const UA_Variant *value,
            UA_Byte accessLevel) {
    UA_VariableAttributes attr = UA_VariableAttributes_default;
    attr.displayName = UA_LOCALIZEDTEXT("", (char *)(uintptr_t)browseName);
    attr.dataType = value->type->typeId;
    attr.accessLevel = accessLevel;
    attr.userAccessLevel = accessLevel;
    attr.minimumSamplingInterval = 0.0;
    attr.value = *value; /* shallow: addVariableNode copies it */
    UA_UInt32 dims[1];
    if(UA_Variant_isScalar(value)) {
        attr.valueRank = UA_VALUERANK_SCALAR;
    } else {
        attr.valueRank = UA_VALUERANK_ONE_DIMENSION;
        dims[0] = (UA_UInt32)value->arrayLength;
        attr.arrayDimensions = dims;
        attr.arrayDimensionsSize = 1;
    }
    return UA_Server_addVariableNode(
        server, UA_NODEID_STRING(ns, (char *)(uintptr_t)id), parent,
        UA_NODEID_NUMERIC(0, UA_NS0ID_HASCOMPONENT),
        UA_QUALIFIEDNAME(ns, (char *)(uintptr_t)browseName),
        UA_NODEID_NUMERIC(0, UA_NS0ID_BASEDATAVARIABLETYPE), attr, NULL, NULL);
}

/* writeScalar writes through the server's Write service path, which is what
 * samples MonitoredItems with sampling interval 0: one write, one sample. */
UA_StatusCode
writeScalar(UA_Server *server, const UA_NodeId *id, const void *value,
            const UA_DataType *type, UA_DateTime sourceTime) {
    UA_DataValue dv;
    UA_DataValue_init(&dv);
    UA_Variant_setScalar(&dv.value, (void *)(uintptr_t)value, type);
    dv.hasValue = true;
    dv.sourceTimestamp = sourceTime;
    dv.hasSourceTimestamp = true;
    return UA_Server_writeDataValue(server, *id, dv);
}
