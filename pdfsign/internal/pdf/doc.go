// Package pdf is the small part of PDF that sealing needs: a lazy reader
// over io.ReaderAt (cross-reference tables, streams, hybrid files, object
// streams, PNG predictors, with limits on every size and depth and refusal
// of damaged cross-reference data) and an append-only writer of incremental
// updates whose cross-reference section matches the file's last one.
package pdf
