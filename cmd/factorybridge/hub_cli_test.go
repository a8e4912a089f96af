package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

const exampleKey = "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0xMjM0NTY="

// TestValidateIoTHubExamples validates the IoT Hub examples the way an
// operator would, with their connection strings in the environment, and
// shows that a bad string is named without printing its key.
func TestValidateIoTHubExamples(t *testing.T) {
	env := map[string]string{
		"IOTHUB_DEVICE_CONNECTION_STRING":  "HostName=plant.azure-devices.net;DeviceId=munich-1;SharedAccessKey=" + exampleKey,
		"IOTHUB_MODULE_CONNECTION_STRING":  "HostName=plant.azure-devices.net;DeviceId=munich-2;ModuleId=factorybridge;SharedAccessKey=" + exampleKey,
		"IOTHUB_GATEWAY_CONNECTION_STRING": "HostName=plant.azure-devices.net;DeviceId=munich-3;GatewayHostName=edge.plant.local;SharedAccessKey=" + exampleKey,
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	files, _ := filepath.Glob("../../configs/iothub-*.toml")
	if len(files) < 4 {
		t.Fatalf("want the device, module, gateway and edge examples, found %v", files)
	}
	for _, f := range files {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), []string{"validate", "-config", f}, &stdout, &stderr)
		if err != nil || !strings.Contains(stdout.String(), "→ iothub") {
			t.Errorf("validate %s: %v\nstdout %s\nstderr %s", f, err, stdout.String(), stderr.String())
		}
	}
	t.Setenv("IOTHUB_DEVICE_CONNECTION_STRING", "HostName=plant.azure-devices.net;SharedAccessKey="+exampleKey)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"validate", "-config", "../../configs/iothub-device.toml"}, &stdout, &stderr)
	if code := exitCode(err, &stderr); code != 1 || !strings.Contains(stderr.String(), "DeviceId is missing") {
		t.Errorf("bad connection string: exit %d, stderr %q; want 1 and the missing part named", code, stderr.String())
	}
	if strings.Contains(stderr.String()+stdout.String(), exampleKey) {
		t.Errorf("the key was printed: %s", stderr.String())
	}
}
