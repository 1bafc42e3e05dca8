package main

import (
	"context"
	"fmt"
	"io"
)

// runPDF is replaced by the issue that builds it.
func runPDF(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintf(stderr, "scansign pdf: %v\n", errNotBuilt)
	return exitUsage
}
