//go:build !race

package harness

// RaceEnabled is true when this binary was built with -race. Build then
// builds the servers with -race too, so end-to-end runs catch their races.
const RaceEnabled = false
