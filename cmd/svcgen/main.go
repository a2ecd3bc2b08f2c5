// Command svcgen bootstraps production-grade Go backend services and keeps them in step with
// the generator afterwards. The commands here are thin: they turn flags, answer files and
// prompts into a generator.Spec, call the generator package and print what happened.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// An interrupt cancels the context: the generator then discards its staging directory and
	// leaves the target as it was.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, SystemIO(), os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, streams *IOStreams, args []string) int {
	root := newRootCmd(streams, args)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		printError(streams, err)
		return exitCode(err)
	}
	return 0
}
