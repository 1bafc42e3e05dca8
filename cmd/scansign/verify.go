package main

import (
	"context"
	"fmt"
	"io"
)

// runVerify is replaced by the issue that builds it.
func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintf(stderr, "scansign verify: %v\n", errNotBuilt)
	return exitUsage
}
