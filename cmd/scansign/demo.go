package main

import (
	"context"
	"fmt"
	"io"
)

// runDemo is replaced by the issue that builds it.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintf(stderr, "scansign demo: %v\n", errNotBuilt)
	return exitUsage
}
