// Package sealimg checks seal images before they are stored and draws the
// red seal images used in development and tests.
//
// Check accepts PNG or JPEG within byte and pixel limits, decodes the whole
// image (so a truncated file is refused at registration, not when a seal
// control tries to show it) and reports whether it has transparency. The
// original bytes are what gets stored: re-encoding could drop a PNG's alpha
// channel or change the picture a seal company registered.
//
// Draw renders a seal (ring, optional star, text along the top arc and
// horizontal lines below) with golang.org/x/image's vector rasterizer and the
// Go fonts, so it needs no system font. The Go fonts cover Latin text only;
// pass a font with CJK glyphs in Design.Font to draw Chinese names.
// DevSeal is the one-call form the dev PKI uses to give each leaf certificate
// a seal.
//
// The sample seals in testdata/seals are drawn by gen_samples.go:
//
//go:generate go run gen_samples.go -out ../../testdata/seals
package sealimg
