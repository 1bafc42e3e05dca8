package main

import (
	"context"
	"fmt"
	"io"
)

// runPKI is replaced by the issue that builds it.
func runPKI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintf(stderr, "scansign pki: %v\n", errNotBuilt)
	return exitUsage
}
