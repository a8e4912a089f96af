package opcua

import (
	"testing"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	fb "factorybridge"
)

// TestChanged checks the read mode's change test against what a server's
// DataChangeFilter decides for each trigger and deadband.
func TestChanged(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	num := func(v float64, status uint32, at time.Time) fb.Reading {
		return fb.Reading{Value: fb.FloatValue(fb.TypeDouble, v), Status: status, SourceTime: at}
	}
	arr := func(xs ...int64) fb.Reading {
		var el []fb.Value
		for _, x := range xs {
			el = append(el, fb.IntValue(fb.TypeInt32, x))
		}
		return fb.Reading{Value: fb.ArrayValue(fb.TypeInt32, el), SourceTime: t0}
	}
	for _, tc := range []struct {
		name string
		node Node
		a, b fb.Reading
		want bool
	}{
		{"same", Node{Trigger: "status_value"}, num(1, 0, t0), num(1, 0, t0), false},
		{"value", Node{Trigger: "status_value"}, num(1, 0, t0), num(2, 0, t0), true},
		{"status only trigger, value", Node{Trigger: "status"}, num(1, 0, t0), num(2, 0, t0), false},
		{"status only trigger, status", Node{Trigger: "status"}, num(1, 0, t0), num(1, 0x80000000, t0), true},
		{"timestamp, status_value", Node{Trigger: "status_value"}, num(1, 0, t0), num(1, 0, t0.Add(time.Second)), false},
		{"timestamp, status_value_timestamp", Node{Trigger: "status_value_timestamp"}, num(1, 0, t0), num(1, 0, t0.Add(time.Second)), true},
		{"within deadband", Node{Trigger: "status_value", Deadband: "absolute", DeadbandValue: 0.5}, num(1, 0, t0), num(1.5, 0, t0), false},
		{"beyond deadband", Node{Trigger: "status_value", Deadband: "absolute", DeadbandValue: 0.5}, num(1, 0, t0), num(1.51, 0, t0), true},
		{"status beats deadband", Node{Trigger: "status_value", Deadband: "absolute", DeadbandValue: 5}, num(1, 0, t0), num(1, 0x40000000, t0), true},
		{"array element beyond", Node{Trigger: "status_value", Deadband: "absolute", DeadbandValue: 1}, arr(1, 2), arr(1, 4), true},
		{"array within", Node{Trigger: "status_value", Deadband: "absolute", DeadbandValue: 1}, arr(1, 2), arr(2, 3), false},
		{"array length", Node{Trigger: "status_value", Deadband: "absolute", DeadbandValue: 1}, arr(1, 2), arr(1), true},
		{"text", Node{Trigger: "status_value", Deadband: "absolute", DeadbandValue: 1},
			fb.Reading{Value: fb.TextValue(fb.TypeString, "a")}, fb.Reading{Value: fb.TextValue(fb.TypeString, "b")}, true},
	} {
		if got := changed(&tc.node, &tc.a, &tc.b); got != tc.want {
			t.Errorf("%s: changed = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestEventFilter checks the select clauses and the where clause an event
// source asks for.
func TestEventFilter(t *testing.T) {
	src, err := parseEventSource(EventSource{Name: "e", Fields: []string{"Severity", "ActiveState/Id", "nsu=urn:x;Code"},
		Types: []string{"i=2041", "nsu=urn:x;s=A", "ns=1;i=7"}})
	if err != nil {
		t.Fatal(err)
	}
	ns := []string{"http://opcfoundation.org/UA/", "urn:y", "urn:x"}
	sel, err := src.selectClauses(ns, []bool{true, true, true})
	if err != nil {
		t.Fatal(err)
	}
	if len(sel) != 4 || sel[0].TypeDefinitionID.IntID() != id.BaseEventType || sel[1].TypeDefinitionID.IntID() != id.AlarmConditionType ||
		len(sel[1].BrowsePath) != 2 || sel[2].BrowsePath[0].NamespaceIndex != 2 || sel[2].BrowsePath[0].Name != "Code" ||
		sel[3].BrowsePath[0].Name != "EventType" {
		t.Errorf("select clauses %+v", sel)
	}
	where, err := src.whereClause(ns)
	if err != nil {
		t.Fatal(err)
	}
	// Or(OfType t1, Or(OfType t2, OfType t3)): elements Or, Or, OfType ×3.
	ops := []ua.FilterOperator{ua.FilterOperatorOr, ua.FilterOperatorOr, ua.FilterOperatorOfType, ua.FilterOperatorOfType, ua.FilterOperatorOfType}
	if len(where.Elements) != len(ops) {
		t.Fatalf("%d elements, want %d", len(where.Elements), len(ops))
	}
	refs := [][2]uint32{{2, 1}, {3, 4}}
	for k, e := range where.Elements {
		if e.FilterOperator != ops[k] {
			t.Errorf("element %d: operator %v, want %v", k, e.FilterOperator, ops[k])
		}
		if k < 2 {
			a, b := e.FilterOperands[0].Value.(ua.ElementOperand), e.FilterOperands[1].Value.(ua.ElementOperand)
			if [2]uint32{a.Index, b.Index} != refs[k] {
				t.Errorf("Or %d joins %d and %d, want %v", k, a.Index, b.Index, refs[k])
			}
		}
	}
	lit := where.Elements[3].FilterOperands[0].Value.(ua.LiteralOperand).Value.Value().(*ua.NodeID)
	if lit.String() != "ns=2;s=A" {
		t.Errorf("second type %v, want ns=2;s=A (resolved by URI)", lit)
	}
	if err := ParseEventField("Colour"); err == nil {
		t.Error("an unknown field name was accepted")
	}
}
