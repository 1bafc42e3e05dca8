package certs_test

import (
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/scansign/scansign/certs"
)

// FuzzParseCertificate: any input either fails with ErrMalformedCertificate
// or gives a certificate whose facts can be read, and whose serial
// round-trips through NormalizeSerial.
func FuzzParseCertificate(f *testing.F) {
	files, _ := filepath.Glob("../testdata/pki/leaves/*.pem")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		f.Add(b)
		if block, _ := pem.Decode(b); block != nil {
			f.Add(block.Bytes)
		}
	}
	f.Add([]byte("MIIB"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := certs.ParseCertificate(data)
		if err != nil {
			return
		}
		facts := certs.FactsOf(c, nil)
		if facts.Serial != "" && facts.Serial[0] != '-' {
			if n, err := certs.NormalizeSerial(facts.Serial); err == nil && n != facts.Serial {
				t.Fatalf("serial %q normalises to %q", facts.Serial, n)
			}
		}
		if facts.CertType != certs.CertTypePerson && facts.CertType != certs.CertTypeOrganisation {
			t.Fatalf("certType %v", facts.CertType)
		}
		certs.ParseCertificates(data)
	})
}

// FuzzParsePFX: arbitrary .pfx input never panics.
func FuzzParsePFX(f *testing.F) {
	files, _ := filepath.Glob("../testdata/pki/leaves/*.pfx")
	for _, p := range files[:min(2, len(files))] {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		certs.ParsePFX(data, []byte("scansign-dev"))
		certs.ParsePrivateKey(data, []byte("scansign-dev"))
	})
}
