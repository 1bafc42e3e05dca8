// Package ber turns BER into DER so encoding/asn1 can read it. Real CMS
// comes in BER: poppler's pdfsig writes indefinite lengths, Windows and
// streaming encoders split OCTET STRINGs into constructed chunks. ToDER
// rewrites every length in definite form and joins constructed universal
// OCTET STRINGs into one primitive string; everything else keeps its bytes,
// so a DER input comes back unchanged. JoinChunks joins the chunks of an
// implicitly tagged OCTET STRING, which ToDER cannot recognise as one.
package ber
