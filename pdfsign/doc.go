// Package pdfsign seals PDFs the way the guide's seal controls need (三.5,
// 三.6): Prepare places a seal image and an empty signature as an
// incremental update and returns the digest to sign; Complete embeds the
// app's answer (a standard detached CMS it assembles from a raw signature,
// or the app's PKCS#7 over the hash) after checking it; Verify reports every
// signature of a PDF; Revoke gives back the PDF as it was before the latest
// seal. NewHandler serves these to seal controls over HTTP.
//
// It never rewrites the original bytes, reads documents through
// io.ReaderAt and streams results, so a 100 MB file is hashed once per pass
// and never held in memory. Signatures and trust are checked by package
// verify. docs/pdf-seals.md describes the format choices.
package pdfsign
