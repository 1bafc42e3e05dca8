package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/scansign/scansign/relay"
)

// runAccount is `scansign account add NAME --role system|app`: it draws a
// secret, prints it once, and prints the configuration holding its hash.
// The secret itself is stored nowhere.
func runAccount(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	usage := func() {
		fmt.Fprintln(stderr, "usage: scansign account add NAME --role system|app")
		fmt.Fprintln(stderr, "\nPrints a new random secret (once) and the config entry holding its SHA-256.")
		fmt.Fprintln(stderr, "system: trading systems and seal controls; app: CA mobile apps.")
	}
	if len(args) == 0 || args[0] != "add" {
		usage()
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return exitOK
		}
		return exitUsage
	}
	fs := flag.NewFlagSet("scansign account add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = usage
	role := fs.String("role", "", "system or app")
	// Accept NAME before or after the flags.
	var name string
	rest := args[1:]
	if len(rest) > 0 && len(rest[0]) > 0 && rest[0][0] != '-' {
		name, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitUsage
	}
	if name == "" && fs.NArg() == 1 {
		name = fs.Arg(0)
	} else if fs.NArg() > 0 {
		usage()
		return exitUsage
	}
	if err := relay.ValidateAccountName(name); err != nil {
		fmt.Fprintf(stderr, "scansign account add: %v\n", err)
		return exitUsage
	}
	r := relay.Role(*role)
	if !r.Valid() {
		fmt.Fprintln(stderr, "scansign account add: --role must be system or app")
		return exitUsage
	}
	secret, err := relay.NewSecret()
	if err != nil {
		fmt.Fprintf(stderr, "scansign account add: %v\n", err)
		return exitUsage
	}
	hash := relay.HashSecret(secret)
	fmt.Fprintf(stdout, `Account %[1]s (role %[2]s). Its secret, shown only now; give it to the account's owner
(it is the "password" of /grantToken):

    %[3]s

Add this entry under relay.accounts in the config file:

    - {name: %[1]s, role: %[2]s, secret_hash: "%[4]s"}

or pass it as --account %[1]s:%[2]s:%[4]s
(or in SCANSIGN_ACCOUNTS, comma-separated).
`, name, r, secret, hash)
	return exitOK
}
