package main

import (
	"context"
	"fmt"
	"io"
)

// runAccount is replaced by the issue that builds it.
func runAccount(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintf(stderr, "scansign account: %v\n", errNotBuilt)
	return exitUsage
}
