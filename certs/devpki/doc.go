// Package devpki makes development PKIs: SM2 and RSA roots, issuing CAs,
// person and organisation leaves, an expired leaf, a revoked leaf with its
// CRL, and an untrusted second root with a leaf — everything `scansign pki
// init` writes and `scansign demo` and the tests use. It is a library so
// callers create a fresh PKI in a temporary directory and read the
// Manifest instead of guessing file names. Keys are for development only:
// CA keys are written unencrypted.
package devpki
