package pubsubjson

import (
	"encoding/json"
	"errors"
	"fmt"
)

// parseMetaData reads a "ua-metadata" message (7.2.5.5.2): the writer is
// mandatory, and so is the metadata, a DataSetMetaDataType in the reversible
// encoding (6.2.3.2.3).
func parseMetaData(b []byte) (*MetaDataMessage, error) {
	var m struct {
		DataSetWriterID   *float64 `json:"DataSetWriterId"`
		DataSetWriterName string   `json:"DataSetWriterName"`
		MetaData          *struct {
			Name                 string            `json:"Name"`
			Fields               []json.RawMessage `json:"Fields"`
			ConfigurationVersion struct {
				MajorVersion float64 `json:"MajorVersion"`
				MinorVersion float64 `json:"MinorVersion"`
			} `json:"ConfigurationVersion"`
		} `json:"MetaData"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("ua-metadata: %w", err)
	}
	if m.DataSetWriterID == nil || m.MetaData == nil {
		return nil, errors.New("ua-metadata: DataSetWriterId and MetaData are mandatory")
	}
	id, err := uintIn[uint16](*m.DataSetWriterID, "DataSetWriterId")
	if err != nil {
		return nil, fmt.Errorf("ua-metadata: %w", err)
	}
	out := &MetaDataMessage{WriterID: id, WriterName: m.DataSetWriterName, MetaData: MetaData{Name: m.MetaData.Name}}
	v := m.MetaData.ConfigurationVersion
	if out.MetaData.Major, err = uintIn[uint32](v.MajorVersion, "MajorVersion"); err != nil {
		return nil, fmt.Errorf("ua-metadata: %w", err)
	}
	if out.MetaData.Minor, err = uintIn[uint32](v.MinorVersion, "MinorVersion"); err != nil {
		return nil, fmt.Errorf("ua-metadata: %w", err)
	}
	for i, raw := range m.MetaData.Fields {
		f, err := parseFieldMetaData(raw)
		if err != nil {
			return nil, fmt.Errorf("ua-metadata: field %d: %w", i, err)
		}
		out.MetaData.Fields = append(out.MetaData.Fields, f)
	}
	return out, nil
}

// parseFieldMetaData reads a FieldMetaData (6.2.3.2.4). Its DataType is a
// NodeId in the reversible encoding of 1.05.03 ({"Id": 11}) or the string
// form of later editions ("i=11"); only namespace 0 is expected.
func parseFieldMetaData(raw json.RawMessage) (FieldMetaData, error) {
	var f struct {
		Name           string            `json:"Name"`
		BuiltInType    float64           `json:"BuiltInType"`
		DataType       json.RawMessage   `json:"DataType"`
		ValueRank      *float64          `json:"ValueRank"`
		DataSetFieldID string            `json:"DataSetFieldId"`
		Properties     []json.RawMessage `json:"Properties"`
	}
	var out FieldMetaData
	if err := json.Unmarshal(raw, &f); err != nil {
		return out, err
	}
	if f.Name == "" || f.BuiltInType < 0 || f.BuiltInType > 25 || f.BuiltInType != float64(byte(f.BuiltInType)) {
		return out, fmt.Errorf("field %q with BuiltInType %v", f.Name, f.BuiltInType)
	}
	out = FieldMetaData{Name: f.Name, BuiltInType: byte(f.BuiltInType), ValueRank: -1, FieldID: f.DataSetFieldID}
	if f.ValueRank != nil {
		out.ValueRank = int32(*f.ValueRank)
	}
	var err error
	if out.DataType, err = nodeIDNumber(f.DataType); err != nil {
		return out, fmt.Errorf("field %q: DataType: %w", f.Name, err)
	}
	if out.Properties, err = stringProperties(f.Properties); err != nil {
		return out, fmt.Errorf("field %q: %w", f.Name, err)
	}
	return out, nil
}

// nodeIDNumber reads a numeric namespace 0 NodeId: {"Id": n} (1.05.03
// reversible; IdType and Namespace omitted at their defaults) or "i=n".
func nodeIDNumber(raw json.RawMessage) (uint32, error) {
	if len(raw) == 0 {
		return 0, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		var n uint32
		if _, err := fmt.Sscanf(s, "i=%d", &n); err != nil {
			return 0, fmt.Errorf("%q is not a numeric NodeId", s)
		}
		return n, nil
	}
	var o struct {
		IDType    *float64 `json:"IdType"`
		ID        *float64 `json:"Id"`
		Namespace *float64 `json:"Namespace"`
	}
	if err := json.Unmarshal(raw, &o); err != nil || o.ID == nil || (o.IDType != nil && *o.IDType != 0) ||
		(o.Namespace != nil && *o.Namespace != 0) {
		return 0, fmt.Errorf("%s is not a numeric namespace 0 NodeId", raw)
	}
	return uintIn[uint32](*o.ID, "Id")
}

// stringProperties reads KeyValuePairs whose Key is a QualifiedName
// ({"Name": …}) and whose Value is a String Variant ({"Type": 12, "Body": …}),
// both reversible.
func stringProperties(raws []json.RawMessage) (map[string]string, error) {
	out := map[string]string{}
	for _, raw := range raws {
		var kv struct {
			Key struct {
				Name string `json:"Name"`
			} `json:"Key"`
			Value struct {
				Type float64 `json:"Type"`
				Body string  `json:"Body"`
			} `json:"Value"`
		}
		if err := json.Unmarshal(raw, &kv); err != nil {
			return nil, fmt.Errorf("property %s: %w", raw, err)
		}
		if kv.Value.Type != 12 {
			return nil, fmt.Errorf("property %q: Variant of type %v, not String", kv.Key.Name, kv.Value.Type)
		}
		out[kv.Key.Name] = kv.Value.Body
	}
	return out, nil
}
