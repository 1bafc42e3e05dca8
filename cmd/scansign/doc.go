// Command scansign is the one binary of the project: the relay server, the
// phone simulator, the offline verifier, the PDF seal tools, the dev PKI and
// the seal company service, each a subcommand.
package main
