/* Type coverage nodes: one read-only scalar per built-in type, three arrays,
 * and one variable that cannot be read. The values are fixed (README.md lists
 * them) and chosen at the edges a decoder or converter gets wrong: minimum
 * signed and maximum unsigned integers, float extremes, non-ASCII text,
 * bytes 0x00 and 0xFF, a leap day, the largest numeric NodeId. */
#include "factorysim.h"

#include <float.h>
#include <stdio.h>

/* 2024-02-29T12:34:56.789Z */
#define TYPES_DATETIME (UA_DateTime_fromUnixTime(1709210096) + 789 * UA_DATETIME_MSEC)

static UA_StatusCode
addTyped(UA_Server *server, UA_UInt16 ns, const char *name,
         const UA_Variant *v, UA_Byte access) {
    char id[64];
    snprintf(id, sizeof(id), "types.%s", name);
    return addVariable(server, ns, id, name, UA_NODEID_STRING(ns, "types"), v,
                       access);
}

static UA_StatusCode
addScalar(UA_Server *server, UA_UInt16 ns, const char *name, const void *value,
          int typeIndex) {
    UA_Variant v;
    UA_Variant_setScalar(&v, (void *)(uintptr_t)value, &UA_TYPES[typeIndex]);
    return addTyped(server, ns, name, &v, UA_ACCESSLEVELMASK_READ);
}

static UA_StatusCode
addArray(UA_Server *server, UA_UInt16 ns, const char *name, const void *values,
         size_t n, int typeIndex) {
    UA_Variant v;
    UA_Variant_setArray(&v, (void *)(uintptr_t)values, n, &UA_TYPES[typeIndex]);
    return addTyped(server, ns, name, &v, UA_ACCESSLEVELMASK_READ);
}

static UA_StatusCode
addNumbers(UA_Server *server, UA_UInt16 ns) {
    UA_Boolean b = true;
    UA_SByte sb = -128;
    UA_Byte by = 255;
    UA_Int16 i16 = INT16_MIN;
    UA_UInt16 u16 = UINT16_MAX;
    UA_Int32 i32 = INT32_MIN;
    UA_UInt32 u32 = UINT32_MAX;
    UA_Int64 i64 = INT64_MIN;
    UA_UInt64 u64 = UINT64_MAX;
    UA_Float f = FLT_MAX;
    UA_Double d = DBL_TRUE_MIN; /* smallest subnormal, 4.9406564584124654e-324 */
    UA_StatusCode res = addScalar(server, ns, "Boolean", &b, UA_TYPES_BOOLEAN);
    res |= addScalar(server, ns, "SByte", &sb, UA_TYPES_SBYTE);
    res |= addScalar(server, ns, "Byte", &by, UA_TYPES_BYTE);
    res |= addScalar(server, ns, "Int16", &i16, UA_TYPES_INT16);
    res |= addScalar(server, ns, "UInt16", &u16, UA_TYPES_UINT16);
    res |= addScalar(server, ns, "Int32", &i32, UA_TYPES_INT32);
    res |= addScalar(server, ns, "UInt32", &u32, UA_TYPES_UINT32);
    res |= addScalar(server, ns, "Int64", &i64, UA_TYPES_INT64);
    res |= addScalar(server, ns, "UInt64", &u64, UA_TYPES_UINT64);
    res |= addScalar(server, ns, "Float", &f, UA_TYPES_FLOAT);
    res |= addScalar(server, ns, "Double", &d, UA_TYPES_DOUBLE);
    return res;
}

static UA_StatusCode
addStrings(UA_Server *server, UA_UInt16 ns) {
    static UA_Byte bytes[] = {0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF};
    UA_String s = UA_STRING("Grüße aus der Fabrik 🏭 工場");
    UA_ByteString bs = {sizeof(bytes), bytes};
    UA_XmlElement xml = UA_STRING("<station name=\"assembly\">Grüße</station>");
    UA_StatusCode res = addScalar(server, ns, "String", &s, UA_TYPES_STRING);
    res |= addScalar(server, ns, "ByteString", &bs, UA_TYPES_BYTESTRING);
    res |= addScalar(server, ns, "XmlElement", &xml, UA_TYPES_XMLELEMENT);
    return res;
}

static UA_StatusCode
addIdentifiers(UA_Server *server, UA_UInt16 ns) {
    UA_DateTime dt = TYPES_DATETIME;
    UA_Guid guid = UA_GUID("72962B91-FA75-4AE6-8D28-B404DC7DAF63");
    UA_NodeId id = UA_NODEID_NUMERIC(1, UINT32_MAX);
    UA_ExpandedNodeId eid = UA_EXPANDEDNODEID_STRING(0, "types.String");
    eid.namespaceUri = UA_STRING(NS_URI_TYPES);
    UA_StatusCode sc = UA_STATUSCODE_BADNODEIDUNKNOWN; /* 0x80340000 */
    UA_QualifiedName qn = UA_QUALIFIEDNAME(1, "FactoryBridge");
    UA_LocalizedText lt = UA_LOCALIZEDTEXT("de-DE", "Störung an Station 3");
    UA_StatusCode res = addScalar(server, ns, "DateTime", &dt, UA_TYPES_DATETIME);
    res |= addScalar(server, ns, "Guid", &guid, UA_TYPES_GUID);
    res |= addScalar(server, ns, "NodeId", &id, UA_TYPES_NODEID);
    res |= addScalar(server, ns, "ExpandedNodeId", &eid, UA_TYPES_EXPANDEDNODEID);
    res |= addScalar(server, ns, "StatusCode", &sc, UA_TYPES_STATUSCODE);
    res |= addScalar(server, ns, "QualifiedName", &qn, UA_TYPES_QUALIFIEDNAME);
    res |= addScalar(server, ns, "LocalizedText", &lt, UA_TYPES_LOCALIZEDTEXT);
    return res;
}

static UA_StatusCode
addArrays(UA_Server *server, UA_UInt16 ns) {
    UA_Int32 ints[] = {1, 2, 3, 4, 5};
    UA_Double doubles[] = {-1.5, 0.0, 2.25};
    UA_String strings[] = {UA_STRING("alpha"), UA_STRING(""), UA_STRING("Ωmega")};
    UA_StatusCode res = addArray(server, ns, "Int32Array", ints, 5, UA_TYPES_INT32);
    res |= addArray(server, ns, "DoubleArray", doubles, 3, UA_TYPES_DOUBLE);
    res |= addArray(server, ns, "StringArray", strings, 3, UA_TYPES_STRING);
    return res;
}

/* addNotReadable has access level 0, so Read and CreateMonitoredItems on its
 * Value give BadNotReadable: the bridge's per-node error path. */
static UA_StatusCode
addNotReadable(UA_Server *server, UA_UInt16 ns) {
    UA_Int32 x = 42;
    UA_Variant v;
    UA_Variant_setScalar(&v, &x, &UA_TYPES[UA_TYPES_INT32]);
    return addTyped(server, ns, "NotReadable", &v, 0);
}

UA_StatusCode
types_add(UA_Server *server, UA_UInt16 ns) {
    UA_StatusCode res = addObject(server, ns, "types", "Types",
                                  UA_NODEID_NUMERIC(0, UA_NS0ID_OBJECTSFOLDER),
                                  true);
    res |= addNumbers(server, ns);
    res |= addStrings(server, ns);
    res |= addIdentifiers(server, ns);
    res |= addArrays(server, ns);
    res |= addNotReadable(server, ns);
    return res;
}
