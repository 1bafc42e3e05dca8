// Package httpjson writes the JSON answers of every scansign HTTP API the
// same way: labelled application/json;charset=utf-8 (the guide's label),
// HTML characters left as they are (values go back byte for byte as they
// were saved), never cached (answers carry personal data, tokens and seal
// images), never sniffed, with their length.
package httpjson
