package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes shared by every subcommand: auditors script against them.
const (
	exitOK      = 0 // success, or "valid"
	exitInvalid = 1 // the thing checked is not valid
	exitUsage   = 2 // bad flags, unreadable input, I/O error
)

// command is one subcommand. run gets the arguments after the subcommand's
// name and returns an exit code; it writes its report to stdout and its
// diagnostics to stderr.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"serve", "run the relay (手机扫码服务) and the HTTP APIs", runServe},
		{"demo", "start a dev server and run every flow with the phone simulator", runDemo},
		{"app", "play a CA mobile app: scan a QR payload and answer the operation", runApp},
		{"account", "manage relay accounts (account add NAME --role system|app)", runAccount},
		{"verify", "verify PKCS#7 / raw signatures and certificates offline", runVerify},
		{"pki", "create a development PKI (SM2 and RSA)", runPKI},
		{"seal", "the seal company service and its seal store", runSeal},
		{"pdf", "prepare, complete, sign, verify and revoke PDF seals", runPDF},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "scansign: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: scansign <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'scansign <command> -h' for a command's flags.")
}
