package pdfsign

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/sign"
	"github.com/scansign/scansign/verify"
)

func verifyPDF(t testing.TB, v *verify.Verifier, doc []byte, extract bool) *Report {
	t.Helper()
	rep, err := Verify(context.Background(), bytes.NewReader(doc), int64(len(doc)), VerifyOptions{Verifier: v, ExtractSeals: extract})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

// TestThreeSealsVerifyAndRevoke is the "done when": three seals in
// a row by different certificates, SM2 and RSA mixed, in both shapes; all
// verify with our verifier, the RSA ones with pdfsig too; qpdf --check
// passes; revoking the last gives back the previous revision's bytes.
func TestThreeSealsVerifyAndRevoke(t *testing.T) {
	pki := thePKI(t)
	for _, file := range []string{"gs-basic.pdf", "qpdf-linearized-objstm.pdf", "poppler-signed.pdf"} {
		t.Run(file, func(t *testing.T) {
			steps := []struct {
				leaf  string
				shape Shape
			}{{"sm2-person", ShapeCMS}, {"rsa-org", ShapeCMS}, {"sm2-org", ShapeP7Hash}}
			revisions := [][]byte{corpus(t, file)}
			doc := revisions[0]
			for i, st := range steps {
				doc, _ = seal(t, pki, doc, st.leaf, st.shape, Placement{Page: 1, X: 1 + 4.5*float64(i), Y: 8})
				revisions = append(revisions, doc)
				qpdfCheck(t, writeTemp(t, "sealed.pdf", doc))
			}
			rep := verifyPDF(t, pki.verifier, doc, true)
			ours := rep.Signatures
			if file == "poppler-signed.pdf" {
				// pdfsig's own signature: untrusted here, but intact and
				// followed only by signatures.
				first := ours[0]
				if !first.Intact || !first.SignatureValid || !first.ModifiedAfter || !first.LaterChangesOnlySignatures {
					t.Fatalf("the earlier pdfsig signature: %+v", first)
				}
				ours = ours[1:]
			}
			if len(ours) != 3 {
				t.Fatalf("%d signatures", len(ours))
			}
			for i, s := range ours {
				id, _ := pki.identity(t, steps[i].leaf)
				if !s.Valid || !s.CoversRevision || s.Signer.Serial != certs.SerialHex(id.Certificate.SerialNumber) || s.Page != 1 {
					t.Fatalf("signature %d: %+v", i+1, s)
				}
				if s.Shape != steps[i].shape || (s.Shape == ShapeCMS) != (s.SubFilter == SubFilterDetached) {
					t.Fatalf("signature %d: shape %s subfilter %s", i+1, s.Shape, s.SubFilter)
				}
				last := i == len(ours)-1
				if s.CoversDocument != last || s.ModifiedAfter == last || (!last && !s.LaterChangesOnlySignatures) {
					t.Fatalf("signature %d coverage: %+v", i+1, s)
				}
				if len(s.SealImage) == 0 || s.SealImageFormat != "png" {
					t.Fatalf("signature %d: no seal image extracted", i+1)
				}
			}
			// pdfsig: the RSA seal (in the standard shape) is valid and
			// trusted; NSS knows no SM2, so the others are left to us.
			path := writeTemp(t, "sealed.pdf", doc)
			found := false
			for _, s := range pdfsigReport(t, pki, path) {
				if strings.Contains(s, "Signature Field Name: "+ours[1].FieldName+"\n") {
					found = true
					if !strings.Contains(s, "Signature is Valid") {
						t.Fatalf("pdfsig on the RSA seal:\n%s", s)
					}
				}
			}
			if !found {
				t.Fatal("pdfsig does not list the RSA seal")
			}
			// pdfsig 22.12 may misreport trust (stale error code): NSS's
			// vfychain judges the RSA signer's chain in the same database.
			vfychain(t, pki, "rsa-org")
			// Revoke the last seal: the previous revision, byte for byte.
			id, _ := pki.identity(t, "sm2-org")
			hash := ours[2].Hash
			p7, err := sign.PKCS7([]byte(hash), id.Signer, id.Certificate, sign.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			r, err := Revoke(context.Background(), bytes.NewReader(doc), int64(len(doc)), RevokeRequest{Signature: p7}, RevokeOptions{Verifier: pki.verifier}, &out)
			if err != nil {
				t.Fatalf("revoke: %v", err)
			}
			if !bytes.Equal(out.Bytes(), revisions[2]) || r.Size != int64(len(revisions[2])) {
				t.Fatalf("revoke gave %d bytes, not the previous revision's %d", out.Len(), len(revisions[2]))
			}
			// And again, down to the original.
			for k := 2; k >= 1; k-- {
				id, _ := pki.identity(t, steps[k-1].leaf)
				rep := verifyPDF(t, pki.verifier, revisions[k], false)
				h := rep.Signatures[len(rep.Signatures)-1].Hash
				p7, err := sign.PKCS7([]byte(h), id.Signer, id.Certificate, sign.Options{})
				if err != nil {
					t.Fatal(err)
				}
				out.Reset()
				if _, err := Revoke(context.Background(), bytes.NewReader(revisions[k]), int64(len(revisions[k])), RevokeRequest{Signature: p7}, RevokeOptions{Verifier: pki.verifier}, &out); err != nil {
					t.Fatalf("revoke %d: %v", k, err)
				}
				if !bytes.Equal(out.Bytes(), revisions[k-1]) {
					t.Fatalf("revoking seal %d did not give revision %d back", k, k-1)
				}
			}
		})
	}
}

func TestRevokeRefuses(t *testing.T) {
	pki := thePKI(t)
	doc, _ := seal(t, pki, corpus(t, "gs-basic.pdf"), "sm2-person", ShapeCMS, Placement{Page: 1, X: 1, Y: 1})
	doc, _ = seal(t, pki, doc, "rsa-person", ShapeCMS, Placement{Page: 1, X: 6, Y: 1})
	rep := verifyPDF(t, pki.verifier, doc, false)
	first, last := rep.Signatures[0], rep.Signatures[1]
	rsa, _ := pki.identity(t, "rsa-person")
	sm2, _ := pki.identity(t, "sm2-person")
	other, _ := pki.identity(t, "rsa-org")
	p7 := func(id *certs.Identity, content string) []byte {
		b, err := sign.PKCS7([]byte(content), id.Signer, id.Certificate, sign.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name string
		req  RevokeRequest
		code Code
	}{
		{"not the latest", RevokeRequest{FieldName: first.FieldName, Signature: p7(sm2, first.Hash)}, CodeNotLatest},
		{"no such seal", RevokeRequest{FieldName: "Nope", Signature: p7(rsa, last.Hash)}, CodeNoSeal},
		{"another signer", RevokeRequest{Signature: p7(other, last.Hash)}, CodeWrongSigner},
		{"another hash", RevokeRequest{Signature: p7(rsa, first.Hash)}, CodeDigestMismatch},
		{"garbage", RevokeRequest{Signature: []byte("!!")}, CodeBadSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := Revoke(context.Background(), bytes.NewReader(doc), int64(len(doc)), c.req, RevokeOptions{Verifier: pki.verifier}, &out)
			var e *Error
			if !errors.As(err, &e) || e.Code != c.code {
				t.Fatalf("got %v (%s), want %s", err, CodeOf(err), c.code)
			}
			if out.Len() != 0 {
				t.Fatal("a refused revocation wrote output")
			}
		})
	}
}

// TestRevokeWithoutFinalEOL: an original that ends right after %%EOF
// comes back without the line break the seal's update added.
func TestRevokeWithoutFinalEOL(t *testing.T) {
	pki := thePKI(t)
	in := bytes.TrimRight(corpus(t, "gs-basic.pdf"), "\r\n")
	doc, _ := seal(t, pki, in, "rsa-person", ShapeCMS, Placement{Page: 1, X: 1, Y: 1})
	rep := verifyPDF(t, pki.verifier, doc, false)
	id, _ := pki.identity(t, "rsa-person")
	p7, _ := sign.PKCS7([]byte(rep.Signatures[0].Hash), id.Signer, id.Certificate, sign.Options{})
	var out bytes.Buffer
	if _, err := Revoke(context.Background(), bytes.NewReader(doc), int64(len(doc)), RevokeRequest{Signature: p7}, RevokeOptions{Verifier: pki.verifier}, &out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), in) {
		t.Fatalf("got %d bytes back, want the original %d", out.Len(), len(in))
	}
}

// TestVerifyPopplerSignature: pdfsig's BER CMS verifies, trusted when its
// certificate is a root of the trust store.
func TestVerifyPopplerSignature(t *testing.T) {
	dir := t.TempDir()
	pem, err := os.ReadFile(filepath.Join("..", "testdata", "pdf", "poppler-signed-signer.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "root.pem"), pem, 0o644); err != nil {
		t.Fatal(err)
	}
	trust, err := certs.LoadTrustStore(dir, certs.TrustOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rep := verifyPDF(t, verify.New(trust, verify.Options{}), corpus(t, "poppler-signed.pdf"), false)
	if !rep.Valid || len(rep.Signatures) != 1 {
		t.Fatalf("%+v", rep)
	}
	s := rep.Signatures[0]
	if !s.CoversDocument || s.DigestAlgorithm != "SHA-256" || s.Signer.SubjectFields.CN != "corpus pdfsig signer" || s.FieldName != "Signature1" {
		t.Fatalf("%+v", s)
	}
}

// TestVerifyTampered: a byte changed inside a signed range makes the
// signature not intact; a document with no signature is not valid.
func TestVerifyTampered(t *testing.T) {
	pki := thePKI(t)
	doc, _ := seal(t, pki, corpus(t, "gs-basic.pdf"), "rsa-person", ShapeCMS, Placement{Page: 1, X: 1, Y: 1})
	i := bytes.Index(doc, []byte("quick brown"))
	if i < 0 {
		// gs may compress the content; flip a byte of the header comment.
		i = 10
	}
	bad := append([]byte(nil), doc...)
	bad[i] ^= 0x01
	rep := verifyPDF(t, pki.verifier, bad, false)
	if rep.Valid || rep.Signatures[0].Intact || rep.Signatures[0].Reason != string(verify.ReasonContentMismatch) {
		t.Fatalf("%+v", rep.Signatures[0])
	}
	if rep := verifyPDF(t, pki.verifier, corpus(t, "gs-basic.pdf"), false); rep.Valid || len(rep.Signatures) != 0 {
		t.Fatalf("unsigned document: %+v", rep)
	}
}
