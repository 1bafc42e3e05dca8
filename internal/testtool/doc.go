// Package testtool finds the independent implementations scansign's tests
// check against — the OpenSSL CLI, BouncyCastle, poppler, qpdf, NSS, curl,
// jq — so a test that needs one says so in one line. Where one is missing
// the test is skipped, except under CI (the CI variable set): .ci/run
// installs them all, and a missing one fails the test instead of letting it
// pass unchecked.
package testtool
