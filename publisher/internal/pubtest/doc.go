// Package pubtest holds what the tests of the publisher packages share: an
// in-memory Queue, readings of simulated nodes, the check that every reading
// was delivered, and a way to run a publisher for one test.
package pubtest
