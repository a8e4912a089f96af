// Package deploy holds no code: it is where the shipped deployment files
// live (the Dockerfile at the repository root, compose/, systemd/,
// iotedge/) and where their tests run. No container engine runs on the
// test machines, so the tests build the static binary the image uses and
// check it has no ELF interpreter, parse the Dockerfile, the compose file
// and the IoT Edge manifest for their required parts, and run
// systemd-analyze verify on the unit.
package deploy
