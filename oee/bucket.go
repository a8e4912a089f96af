package oee

import "fmt"

// Bucket is what a machine state means for OEE.
type Bucket uint8

// The buckets a state value can map to. BucketUnknown is also the bucket of
// values no map lists, of Bad state readings and of time without connection.
const (
	BucketUnknown Bucket = iota
	BucketRunning
	BucketUnplannedStop
	BucketPlannedStop
	BucketSmallStop
	BucketExcluded
)

// Connected Factory Station Status values.
const (
	cfReady          = 0
	cfWorkInProgress = 1
	cfDone           = 2
	cfDiscarded      = 3
	cfFault          = 4
)

// Preset is a ready-made map of state values to buckets.
type Preset string

// The presets. The zero Preset is none.
const (
	// PresetConnectedFactory maps the Connected Factory Station Status.
	PresetConnectedFactory Preset = "connected-factory"
	// PresetPackML maps the 17 PackML states (ISA-TR88.00.02 numbering).
	PresetPackML Preset = "packml"
	// PresetMachinery maps OPC 40001-1 MachineryItemState with
	// MachineryOperationMode (Roles.Mode).
	PresetMachinery Preset = "machinery"
)

// Presets lists the presets, for validation messages.
func Presets() []Preset { return []Preset{PresetConnectedFactory, PresetPackML, PresetMachinery} }

// presets map state values to buckets. Machinery keys combine
// MachineryItemState (high byte) and MachineryOperationMode (low byte).
var presets = map[Preset]map[int64]Bucket{
	// Connected Factory: a station cycles Ready → WorkInProgress → Done (or
	// Discarded) → Ready, so Ready between cycles is running time; a
	// discarded part is a reject counted by its counter, not a stop.
	PresetConnectedFactory: {
		cfReady: BucketRunning, cfWorkInProgress: BucketRunning, cfDone: BucketRunning,
		cfDiscarded: BucketRunning, cfFault: BucketUnplannedStop,
	},
	PresetPackML:    packmlPreset(),
	PresetMachinery: machineryPreset(),
}

// packmlPreset maps the 17 PackML states (ISA-TR88.00.02 numbering).
// Execute is running. Held (internal cause) and Suspended (starved or
// blocked) and the abort path are unplanned stops; a short one becomes a
// small stop by the threshold. Operator-commanded states (Stopped, Idle,
// Starting, Resetting, Complete) are planned stops. 0 (Undefined) is unknown.
func packmlPreset() map[int64]Bucket {
	const (
		clearing, stopped, starting, idle, suspended, execute, stopping = 1, 2, 3, 4, 5, 6, 7
		aborting, aborted, holding, held, unholding, suspending         = 8, 9, 10, 11, 12, 13
		unsuspending, resetting, completing, complete                   = 14, 15, 16, 17
	)
	m := map[int64]Bucket{execute: BucketRunning}
	for _, s := range []int64{clearing, suspended, aborting, aborted, holding, held, unholding, suspending, unsuspending} {
		m[s] = BucketUnplannedStop
	}
	for _, s := range []int64{stopped, starting, idle, stopping, resetting, completing, complete} {
		m[s] = BucketPlannedStop
	}
	return m
}

// OPC 40001-1 MachineryItemState and MachineryOperationMode numbers.
const (
	miNotAvailable, miOutOfService, miNotExecuting, miExecuting = 0, 1, 2, 3
	moNone, moMaintenance, moSetup, moProcessing                = 0, 1, 2, 3
)

// machineryPreset maps MachineryItemState × MachineryOperationMode:
// executing while processing (or with no mode) is running; maintenance and
// setup are planned stops whatever the item state; not executing or out of
// service while processing is an unplanned stop; not available (switched
// off) is excluded.
func machineryPreset() map[int64]Bucket {
	m := map[int64]Bucket{}
	for mode := int64(moNone); mode <= moProcessing; mode++ {
		m[machineryKey(miNotAvailable, mode)] = BucketExcluded
		for _, st := range []int64{miOutOfService, miNotExecuting, miExecuting} {
			switch {
			case mode == moMaintenance || mode == moSetup:
				m[machineryKey(st, mode)] = BucketPlannedStop
			case st == miExecuting:
				m[machineryKey(st, mode)] = BucketRunning
			default:
				m[machineryKey(st, mode)] = BucketUnplannedStop
			}
		}
	}
	return m
}

func machineryKey(state, mode int64) int64 { return state<<8 | mode }

// stateMap turns a station's preset and explicit states into one map.
func stateMap(o *Station) (map[int64]Bucket, error) {
	preset, ok := presets[o.Preset]
	if !ok && o.Preset != "" {
		return nil, fmt.Errorf("unknown preset %q", o.Preset)
	}
	m := map[int64]Bucket{}
	for k, b := range preset {
		m[k] = b
	}
	key := func(x int64) int64 { return x }
	if o.Preset == PresetMachinery {
		key = func(x int64) int64 { return machineryKey(x, moProcessing) }
	}
	for x, b := range o.States {
		if b > BucketExcluded {
			return nil, fmt.Errorf("state %d: unknown bucket %d", x, b)
		}
		m[key(x)] = b
	}
	return m, nil
}
