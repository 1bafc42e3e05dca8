package main

import (
	"context"
	"fmt"
	"io"
)

// runServe is replaced by the issue that builds it.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintf(stderr, "scansign serve: %v\n", errNotBuilt)
	return exitUsage
}
