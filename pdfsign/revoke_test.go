package pdfsign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"testing"
	"time"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/sign"
	vcms "github.com/scansign/scansign/verify/cms"
)

// embedded cuts the latest signature out of a PDF's /Contents, as anyone
// holding the sealed file can: the DER alone and with the zero padding.
func embedded(t *testing.T, doc []byte) (der, padded []byte) {
	t.Helper()
	d, err := openDocument(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := d.signatures()
	if err != nil || len(sigs) == 0 {
		t.Fatalf("%d signatures: %v", len(sigs), err)
	}
	contents := sigs[len(sigs)-1].contents
	var raw asn1.RawValue
	if _, err := asn1.Unmarshal(contents, &raw); err != nil {
		t.Fatal(err)
	}
	return raw.FullBytes, contents
}

func revoke(t *testing.T, pki *testPKI, doc []byte, req RevokeRequest) (*Revoked, []byte, error) {
	t.Helper()
	var out bytes.Buffer
	r, err := Revoke(context.Background(), bytes.NewReader(doc), int64(len(doc)), req, RevokeOptions{Verifier: pki.verifier}, &out)
	if err != nil && out.Len() != 0 {
		t.Fatal("a refused revocation wrote output")
	}
	return r, out.Bytes(), err
}

// TestRevokeRefusesReplay: the audit's attack — the latest seal's own
// signature, cut out of /Contents, handed back as the revocation — is
// refused for both shapes and both key types, as are the other forms of
// "the signer signed the document, not the hash"; a fresh revocation by
// the same signer still takes the seal back.
func TestRevokeRefusesReplay(t *testing.T) {
	pki := thePKI(t)
	original := corpus(t, "gs-basic.pdf")
	for _, leaf := range []string{"sm2-person", "rsa-org"} {
		for _, shape := range []Shape{ShapeCMS, ShapeP7Hash} {
			t.Run(leaf+"/"+string(shape), func(t *testing.T) {
				id, _ := pki.identity(t, leaf)
				doc, _ := seal(t, pki, original, leaf, shape, Placement{Page: 1, X: 1, Y: 1})
				hash := verifyPDF(t, pki.verifier, doc, false).Signatures[0].Hash
				der, padded := embedded(t, doc)
				for name, sig := range map[string][]byte{"DER": der, "padded": padded, "base64": []byte(base64.StdEncoding.EncodeToString(der))} {
					if _, _, err := revoke(t, pki, doc, RevokeRequest{Signature: sig}); CodeOf(err) != CodeNotFresh {
						t.Fatalf("replayed seal signature (%s): %v", name, err)
					}
				}
				raw, _ := hex.DecodeString(hash)
				alg := vcms.SM3
				if !certs.IsSM2(id.Certificate) {
					alg = vcms.SHA256
				}
				// Later signing times than the seal's: with RSA the same
				// attributes in the same second would give the seal's value.
				detachedOverHash, err := sign.PKCS7Digest(raw, alg, id.Signer, id.Certificate, sign.Options{SigningTime: time.Now().Add(2 * time.Second)})
				if err != nil {
					t.Fatal(err)
				}
				detachedHexText, err := sign.PKCS7([]byte(hash), id.Signer, id.Certificate, sign.Options{Detached: true, SigningTime: time.Now().Add(2 * time.Second)})
				if err != nil {
					t.Fatal(err)
				}
				earlier, err := sign.PKCS7([]byte(hash), id.Signer, id.Certificate, sign.Options{SigningTime: time.Now().Add(-time.Hour)})
				if err != nil {
					t.Fatal(err)
				}
				for name, c := range map[string]struct {
					sig  []byte
					code Code
				}{
					"fresh detached CMS whose messageDigest is the hash": {detachedOverHash, CodeBadSignature},
					"fresh detached CMS over the hash text":              {detachedHexText, CodeBadSignature},
					"signed before the seal":                             {earlier, CodeNotFresh},
				} {
					if _, _, err := revoke(t, pki, doc, RevokeRequest{Signature: c.sig}); CodeOf(err) != c.code {
						t.Fatalf("%s: got %v, want %s", name, err, c.code)
					}
				}
				fresh, err := sign.PKCS7([]byte(hash), id.Signer, id.Certificate, sign.Options{SigningTime: time.Now().Add(2 * time.Second)})
				if err != nil {
					t.Fatal(err)
				}
				if _, back, err := revoke(t, pki, doc, RevokeRequest{Signature: fresh}); err != nil || !bytes.Equal(back, original) {
					t.Fatalf("a fresh revocation: %v", err)
				}
			})
		}
	}
}

// TestRevokeDeterministicRSA: RSA PKCS #1 v1.5 is deterministic, so an app
// that signs the hash text without signed attributes, to seal (p7hash) and
// again to revoke, makes the seal's signature value again — in another
// wrapping (here with the chain added) still the same value, refused; a
// raw RSA signature with the hash as its digest is a signature over the
// document, refused; with a signing time the revocation is fresh.
func TestRevokeDeterministicRSA(t *testing.T) {
	pki := thePKI(t)
	id, _ := pki.identity(t, "rsa-person")
	original := corpus(t, "qpdf-xref-stream.pdf")
	prepared, p := prepareFile(t, original, PrepareRequest{
		Seal: SealImage{Image: redSeal(t)}, Placement: Placement{Page: 1, X: 1, Y: 1, Width: 3, Height: 3},
		Shape: ShapeP7Hash, Signer: id.Certificate,
	})
	sealSig, err := sign.PKCS7([]byte(p.DigestHex()), id.Signer, id.Certificate, sign.Options{NoSignedAttributes: true})
	if err != nil {
		t.Fatal(err)
	}
	var sealed bytes.Buffer
	if _, err := Complete(context.Background(), bytes.NewReader(prepared), int64(len(prepared)), Answer{Signature: sealSig}, CompleteOptions{Verifier: pki.verifier}, &sealed); err != nil {
		t.Fatal(err)
	}
	doc := sealed.Bytes()
	rewrapped, err := sign.PKCS7([]byte(p.DigestHex()), id.Signer, id.Certificate, sign.Options{NoSignedAttributes: true, Chain: id.Chain})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(rewrapped, sealSig) {
		t.Fatal("the test needs another wrapping of the same signature value")
	}
	if _, _, err := revoke(t, pki, doc, RevokeRequest{Signature: rewrapped}); CodeOf(err) != CodeNotFresh {
		t.Fatalf("same RSA value, other wrapping: %v", err)
	}
	rawSame, err := sign.RSA(id.Signer, []byte(p.DigestHex()), vcms.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := revoke(t, pki, doc, RevokeRequest{Signature: rawSame, Cert: certs.EncodePEM(id.Certificate)}); CodeOf(err) != CodeNotFresh {
		t.Fatalf("same RSA value, raw: %v", err)
	}
	prehashed, err := id.Signer.(*rsa.PrivateKey).Sign(rand.Reader, p.Digest, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := revoke(t, pki, doc, RevokeRequest{Signature: prehashed, Cert: certs.EncodePEM(id.Certificate)}); CodeOf(err) != CodeBadSignature {
		t.Fatalf("raw RSA over the hash as digest: %v", err)
	}
	fresh, err := sign.PKCS7([]byte(p.DigestHex()), id.Signer, id.Certificate, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, back, err := revoke(t, pki, doc, RevokeRequest{Signature: fresh}); err != nil || !bytes.Equal(back, original) {
		t.Fatalf("fresh revocation: %v", err)
	}
}
