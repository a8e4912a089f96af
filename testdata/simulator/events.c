/* Events of the line. When a station faults it emits an event of the
 * simulator's own type FaultEventType (s=FaultEventType in the Station
 * namespace, a subtype of BaseEventType with a FaultDuration property: the
 * fault's simulated length in ms) with Severity 700; when the fault is
 * cleared, a plain BaseEventType event with Severity 100. The station object
 * is the event's SourceNode; events bubble up to the line and the Server
 * object (i=2253), and the station and line objects have the
 * SubscribeToEvents bit, so clients may monitor either.
 *
 * open62541 1.4 as Debian builds it has events but not alarms & conditions
 * (UA_ENABLE_SUBSCRIPTIONS_ALARMS_CONDITIONS is off): there are no
 * condition instances and no ConditionRefresh method. */
#include "factorysim.h"

#include <stdio.h>

#define SEVERITY_FAULT 700
#define SEVERITY_CLEARED 100
#define STATUS_FAULT 4

static UA_UInt16 eventsNs; /* 0 until events_init */

static UA_StatusCode
addFaultEventType(UA_Server *server, UA_UInt16 ns) {
    UA_ObjectTypeAttributes ot = UA_ObjectTypeAttributes_default;
    ot.displayName = UA_LOCALIZEDTEXT("", "FaultEventType");
    UA_NodeId type = UA_NODEID_STRING(ns, "FaultEventType");
    UA_StatusCode res = UA_Server_addObjectTypeNode(
        server, type, UA_NODEID_NUMERIC(0, UA_NS0ID_BASEEVENTTYPE),
        UA_NODEID_NUMERIC(0, UA_NS0ID_HASSUBTYPE),
        UA_QUALIFIEDNAME(ns, "FaultEventType"), ot, NULL, NULL);
    UA_VariableAttributes va = UA_VariableAttributes_default;
    va.displayName = UA_LOCALIZEDTEXT("", "FaultDuration");
    va.dataType = UA_TYPES[UA_TYPES_UINT64].typeId;
    va.valueRank = UA_VALUERANK_SCALAR;
    UA_NodeId prop = UA_NODEID_STRING(ns, "FaultEventType.FaultDuration");
    res |= UA_Server_addVariableNode(
        server, prop, type, UA_NODEID_NUMERIC(0, UA_NS0ID_HASPROPERTY),
        UA_QUALIFIEDNAME(ns, "FaultDuration"),
        UA_NODEID_NUMERIC(0, UA_NS0ID_PROPERTYTYPE), va, NULL, NULL);
    /* Mandatory: every event instance gets the property. */
    res |= UA_Server_addReference(
        server, prop, UA_NODEID_NUMERIC(0, UA_NS0ID_HASMODELLINGRULE),
        UA_EXPANDEDNODEID_NUMERIC(0, UA_NS0ID_MODELLINGRULE_MANDATORY), true);
    return res;
}

UA_StatusCode
events_init(UA_Server *server, UA_UInt16 ns) {
    static const char *const notifiers[4] = {"line", "assembly", "test", "packaging"};
    UA_StatusCode res = addFaultEventType(server, ns);
    for(size_t i = 0; i < 4; i++)
        res |= UA_Server_writeEventNotifier(
            server, UA_NODEID_STRING(ns, (char *)(uintptr_t)notifiers[i]),
            UA_EVENTNOTIFIER_SUBSCRIBE_TO_EVENT);
    if(res == UA_STATUSCODE_GOOD)
        eventsNs = ns;
    return res;
}

/* emit creates an event of type, fills its fields and triggers it from the
 * station object; the event node is deleted once delivered. */
static void
emit(UA_Server *server, UA_NodeId type, const char *station, UA_UInt16 severity,
     const char *message, UA_DateTime at, const UA_UInt64 *faultMs) {
    UA_NodeId ev;
    if(UA_Server_createEvent(server, type, &ev) != UA_STATUSCODE_GOOD)
        return;
    UA_String source = UA_STRING((char *)(uintptr_t)station);
    UA_LocalizedText text = UA_LOCALIZEDTEXT("en", (char *)(uintptr_t)message);
    UA_Server_writeObjectProperty_scalar(server, ev, UA_QUALIFIEDNAME(0, "Time"),
                                         &at, &UA_TYPES[UA_TYPES_DATETIME]);
    UA_Server_writeObjectProperty_scalar(server, ev, UA_QUALIFIEDNAME(0, "Severity"),
                                         &severity, &UA_TYPES[UA_TYPES_UINT16]);
    UA_Server_writeObjectProperty_scalar(server, ev, UA_QUALIFIEDNAME(0, "Message"),
                                         &text, &UA_TYPES[UA_TYPES_LOCALIZEDTEXT]);
    UA_Server_writeObjectProperty_scalar(server, ev, UA_QUALIFIEDNAME(0, "SourceName"),
                                         &source, &UA_TYPES[UA_TYPES_STRING]);
    if(faultMs)
        UA_Server_writeObjectProperty_scalar(server, ev,
                                             UA_QUALIFIEDNAME(eventsNs, "FaultDuration"),
                                             faultMs, &UA_TYPES[UA_TYPES_UINT64]);
    UA_NodeId origin = UA_NODEID_STRING(eventsNs, (char *)(uintptr_t)station);
    if(UA_Server_triggerEvent(server, ev, origin, NULL, true) != UA_STATUSCODE_GOOD)
        UA_Server_deleteNode(server, ev, true);
}

void
events_status(UA_Server *server, const char *station, int from, int to,
              UA_UInt64 faultMs, UA_DateTime at) {
    if(eventsNs == 0)
        return;
    char msg[96];
    if(to == STATUS_FAULT) {
        snprintf(msg, sizeof(msg), "%s: fault for %llu ms", station,
                 (unsigned long long)faultMs);
        emit(server, UA_NODEID_STRING(eventsNs, "FaultEventType"), station,
             SEVERITY_FAULT, msg, at, &faultMs);
    } else if(from == STATUS_FAULT) {
        snprintf(msg, sizeof(msg), "%s: fault cleared", station);
        emit(server, UA_NODEID_NUMERIC(0, UA_NS0ID_BASEEVENTTYPE), station,
             SEVERITY_CLEARED, msg, at, NULL);
    }
}
