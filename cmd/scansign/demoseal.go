package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/scansign/scansign/pdfsign"
	"github.com/scansign/scansign/phone"
	"github.com/scansign/scansign/relay/client"
)

// The demo's seal flows (签章 三.5, 撤章 三.6) on its contract PDF, with the
// demo playing the seal control inside the trading system's page.

// sealFlow seals the contract as it stands with the first seal the seal
// company has for leaf's certificate, placed at x, y cm on page 1, in the
// given shape.
func sealFlow(story, leaf string, certType int, shape pdfsign.Shape, x, y float64) demoFlow {
	return demoFlow{
		title: "签章 seal (" + string(shape) + ")", story: story, typ: phone.TypeSeal, certType: certType, leaf: leaf,
		phone: phone.Options{PollInterval: 200 * time.Millisecond},
		// The guide's seal message is the file hash.
		message: func(_ context.Context, d *demo) (string, error) { return fileHash(d.contract), nil },
		alongside: func(ctx context.Context, d *demo, tok, guid string) error {
			return d.prepareSeal(ctx, tok, guid, leaf, shape, x, y)
		},
		verified: func(ctx context.Context, d *demo, tok, _ string, res *client.OperationResult) ([]string, error) {
			return d.completeSeal(ctx, tok, res)
		},
	}
}

func fileHash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// controlSays prints one line of the seal control's.
func (d *demo) controlSays(format string, a ...any) {
	fmt.Fprintf(d.out, "%-15s %s\n", "seal control", fmt.Sprintf(format, a...))
}

// prepareSeal is the seal control while the phone works (三.5 steps 7–9):
// once the app has named its seal company and certificate (status 2) it
// fetches the seals through the relay (status 5), places the first on the
// PDF and hands the hash to the operation (status 4).
//
// For the cms shape prepare needs the signer's certificate: the signed
// attributes name it (PAdES) and its key decides the digest (SM3 for SM2,
// SHA-256 for RSA). A trading system has it from the user's login; here
// the control takes it from the dev PKI.
func (d *demo) prepareSeal(ctx context.Context, tok, guid, leaf string, shape pdfsign.Shape, x, y float64) error {
	for {
		r, err := d.c.GetCaMessageResult(ctx, tok, guid)
		if err != nil {
			return fmt.Errorf("getCaMessageResult: %w", err)
		}
		if r.Status == phone.StatusConfirmed {
			break
		}
		if r.Status == phone.StatusCancelled {
			return errors.New("the app declined the seal operation")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	seals, err := d.c.GetSealImg(ctx, tok, guid)
	if err != nil {
		return fmt.Errorf("getSealImg: %w", err)
	}
	if len(seals) == 0 {
		return errors.New("getSealImg answered no seals")
	}
	names := make([]string, len(seals))
	for i, s := range seals {
		names[i] = fmt.Sprintf("%s %s×%s cm", s.SignName, s.SignWidth, s.SignHeight)
	}
	d.controlSays("getSealImg → the relay asked seal company %q: %s (status 5)", devSealCompany, strings.Join(names, ", "))
	s := seals[0]
	req := client.PDFPrepareRequest{
		PDF: d.contract, SealImg: s.Img, SignWidth: s.SignWidth, SignHeight: s.SignHeight, SignName: s.SignName,
		Page: 1, X: x, Y: y, Shape: string(shape), Reason: "同意", Location: "合肥", GUID: guid,
	}
	if shape == pdfsign.ShapeCMS {
		l, ok := d.pki.Leaf(leaf)
		if !ok {
			return fmt.Errorf("dev PKI has no %s", leaf)
		}
		pem, err := os.ReadFile(l.ChainPath)
		if err != nil {
			return err
		}
		req.Cert = string(pem)
	}
	p, err := d.c.PDFPrepare(ctx, client.Token(tok), req)
	if err != nil {
		return fmt.Errorf("POST /api/v1/pdf/prepare: %w", err)
	}
	what := "a PKCS#7 over the hash"
	if p.Shape == string(pdfsign.ShapeCMS) {
		what = "the prepared signed attributes, raw"
	}
	d.controlSays("POST /api/v1/pdf/prepare → %s on page 1 at (%g, %g) cm as field %s; file hash %s (%s) stored in the operation (status 4): the app signs %s",
		s.SignName, x, y, p.FieldName, shorten(p.Hash, 16), p.DigestAlgorithm, what)
	d.prepared = &preparedPDF{pdf: p.PDF, signedAttributes: p.SignedAttributes}
	return nil
}

// completeSeal is the seal control once the app has signed (三.5 steps
// 11–12): merge the answer into the prepared PDF and verify the result.
func (d *demo) completeSeal(ctx context.Context, tok string, res *client.OperationResult) ([]string, error) {
	lines, err := signerLines(res, "sealed by")
	if err != nil {
		return lines, err
	}
	if d.prepared == nil || res.Value == nil {
		return lines, errors.New("nothing prepared to complete")
	}
	var v struct {
		SignStr string `json:"signStr"`
		PubCert string `json:"pubCert"`
	}
	if err := json.Unmarshal([]byte(*res.Value), &v); err != nil {
		return lines, fmt.Errorf("the app's value: %w", err)
	}
	done, err := d.c.PDFComplete(ctx, client.Token(tok), client.PDFCompleteRequest{PDF: d.prepared.pdf, SignStr: v.SignStr, PubCert: v.PubCert,
		SignedAttributes: d.prepared.signedAttributes})
	if err != nil {
		return lines, fmt.Errorf("POST /api/v1/pdf/complete: %w", err)
	}
	lines = append(lines, fmt.Sprintf("seal control: POST /api/v1/pdf/complete → the signature is in field %s (%s shape)", done.FieldName, done.Shape))
	more, err := d.verifyPDF(ctx, tok, done.PDF)
	lines = append(lines, more...)
	if err != nil {
		return lines, err
	}
	d.versions = append(d.versions, d.contract)
	d.contract = done.PDF
	d.prepared = nil
	return append(lines, d.savePDF(fmt.Sprintf("contract-sealed-%d.pdf", len(d.versions)), done.PDF)), nil
}

// verifyPDF reports every seal of pdf as /api/v1/pdf/verify sees it. A
// route on no operation: the control calls it with the token of the flow
// it is in.
func (d *demo) verifyPDF(ctx context.Context, tok string, pdf []byte) ([]string, error) {
	rep, err := d.c.PDFVerify(ctx, client.Token(tok), pdf)
	if err != nil {
		return nil, fmt.Errorf("POST /api/v1/pdf/verify: %w", err)
	}
	lines := []string{fmt.Sprintf("seal control: POST /api/v1/pdf/verify → %d seal(s) on the %d-byte PDF:", len(rep.Signatures), rep.Size)}
	valid := true
	for _, s := range rep.Signatures {
		valid = valid && s.Valid
		mark, who := "✓", "?"
		if !s.Valid {
			mark = "✗"
		}
		if s.Signer != nil {
			who = s.Signer.SubjectFields.CN
		}
		scope := "covers the whole document"
		if !s.CoversDocument {
			scope = "covers its revision; later changes only add signatures"
			if !s.LaterChangesOnlySignatures {
				scope = "the document changed after it: " + strings.Join(s.LaterChanges, ", ")
			}
		}
		detail := "intact, signature verified, signer trusted"
		if !s.Valid {
			detail = s.Reason + ": " + s.Message
		}
		lines = append(lines, fmt.Sprintf("  %s %s on page %d by %s (%s, %s): %s; %s", mark, s.FieldName, s.Page, who, s.SubFilter, s.DigestAlgorithm, detail, scope))
	}
	if !valid {
		return lines, errors.New("the PDF's seals do not all verify")
	}
	return lines, nil
}

// savePDF writes a PDF into the demo's directory (kept with --keep).
func (d *demo) savePDF(name string, pdf []byte) string {
	path := filepath.Join(d.dir, name)
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		return "could not save " + name + ": " + err.Error()
	}
	return "saved " + path
}

// revokeFlow takes the latest seal back (撤章, 三.6): the seal control
// lists the seals, starts a revoke operation on the latest one's hash, the
// seal's own holder signs it, and the PDF API removes the seal. Listing
// comes before any operation, so the control shows the system account's
// credentials (HTTP Basic); the removal comes within the revoke operation,
// with the token bound to it.
func revokeFlow() demoFlow {
	return demoFlow{
		title: "撤章 revoke", story: "张三 takes the personal seal back: the PDF becomes, byte for byte, what it was before it",
		typ: phone.TypeRevoke, certType: 2, leaf: "sm2-person",
		message: func(ctx context.Context, d *demo) (string, error) {
			seals, err := d.c.PDFSeals(ctx, client.Basic(devSystemAccount, devSystemSecret), d.contract)
			if err != nil {
				return "", fmt.Errorf("POST /api/v1/pdf/seals: %w", err)
			}
			for _, s := range seals {
				if s.Revocable {
					who := "?"
					if s.Signer != nil {
						who = s.Signer.SubjectFields.CN
					}
					d.controlSays("POST /api/v1/pdf/seals (HTTP Basic, the system account) → %d seal(s); the latest, %s by %s, can be taken back with a signature over its hash %s",
						len(seals), s.FieldName, who, shorten(s.Hash, 16))
					return s.Hash, nil
				}
			}
			return "", errors.New("no seal can be taken back (the seal flows did not finish)")
		},
		verified: func(ctx context.Context, d *demo, tok, _ string, res *client.OperationResult) ([]string, error) {
			lines, err := signerLines(res, "take-back signed by")
			if err != nil {
				return lines, err
			}
			revoked, err := d.c.PDFRevoke(ctx, client.Token(tok), d.contract, *res.Value, "")
			if err != nil {
				return lines, fmt.Errorf("POST /api/v1/pdf/revoke: %w", err)
			}
			before := d.versions[len(d.versions)-1]
			if !bytes.Equal(revoked.PDF, before) {
				return lines, errors.New("the revoked PDF is not the one before the seal")
			}
			lines = append(lines, fmt.Sprintf("seal control: POST /api/v1/pdf/revoke → %s removed; the PDF is byte for byte the one before it (%d bytes)",
				revoked.FieldName, len(revoked.PDF)))
			more, err := d.verifyPDF(ctx, tok, revoked.PDF)
			lines = append(lines, more...)
			if err != nil {
				return lines, err
			}
			d.contract, d.versions = revoked.PDF, d.versions[:len(d.versions)-1]
			return append(lines, d.savePDF("contract-revoked.pdf", revoked.PDF)), nil
		},
	}
}
