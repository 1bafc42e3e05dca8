// Package pgtest gives each test run its own fresh PostgreSQL database, so the
// stores' tests run against a real server without seeing each other's rows.
//
// The server comes from SCANSIGN_TEST_DATABASE_URL (default: the local
// trust-auth server's "test" database). Without a reachable server the test is
// skipped — unless CI is set, where it fails: CI must never pass by skipping.
package pgtest
