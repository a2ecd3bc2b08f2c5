package main

import (
	"fmt"
	"os"
	"strconv"
)

// testCheckpoint is the hook behind SVCGEN_TEST_KILL_AT=N, for tests of interrupted commands:
// at the Nth checkpoint the generator passes (a step after which an interruption leaves
// something on disk), svcgen names it on stderr and kills itself with SIGKILL, as `kill -9`
// would. A test raises N until the command finishes, and so interrupts it at every such step
// in turn. Unset (or not a positive number), it is nil and costs nothing.
func testCheckpoint(streams *IOStreams) func(string) {
	n, err := strconv.Atoi(os.Getenv("SVCGEN_TEST_KILL_AT"))
	if err != nil || n <= 0 {
		return nil
	}
	seen := 0
	return func(name string) {
		if seen++; seen < n {
			return
		}
		fmt.Fprintf(streams.ErrOut, "SVCGEN_TEST_KILL_AT=%d: killed after %q\n", n, name)
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			p.Kill() //nolint:errcheck // it does not return when it works
		}
		select {} // until the signal lands
	}
}
