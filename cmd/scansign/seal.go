package main

import (
	"context"
	"fmt"
	"io"
)

// runSeal is replaced by the issue that builds it.
func runSeal(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintf(stderr, "scansign seal: %v\n", errNotBuilt)
	return exitUsage
}
