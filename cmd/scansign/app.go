package main

import (
	"context"
	"fmt"
	"io"
)

// runApp is replaced by the issue that builds it.
func runApp(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintf(stderr, "scansign app: %v\n", errNotBuilt)
	return exitUsage
}
