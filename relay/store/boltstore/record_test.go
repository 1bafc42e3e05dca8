package boltstore

import (
	"testing"
	"time"

	"github.com/scansign/scansign/relay/store"
)

// Records round-trip, and damaged ones are refused, never misread or
// panicked on.
func FuzzDecodeRecord(f *testing.F) {
	v := "签名值"
	op := store.Operation{GUID: "g", Type: 5, Message: "m", Title: "t", InitExtMessage: &v, Status: 2, Stage: "s",
		Value: &v, SealCompanyCode: "xx", Creator: "c", CreatedAt: time.Unix(1, 2), Version: 7}
	b, _ := encodeOp(op)
	f.Add(b)
	op.SealHash, op.SealHashExt = "abcd", `{"shape":"p7hash"}`
	b, _ = encodeOp(op)
	f.Add(b)
	tb, _ := encodeToken(store.Token{Account: "a", Role: "app", GUID: "g", ExpiresAt: time.Unix(3, 4)})
	f.Add(tb)
	f.Add([]byte{recordFormat, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		if op, err := decodeOp("g", b); err == nil {
			again, _ := encodeOp(op)
			if op2, err := decodeOp("g", again); err != nil || op2.Version != op.Version || op2.Message != op.Message ||
				op2.SealHash != op.SealHash || op2.SealHashExt != op.SealHashExt {
				t.Fatalf("re-encoded record reads differently: %v", err)
			}
		}
		decodeToken(store.TokenHash{}, b)
	})
}

// TestDecodeFormat1 reads an operation written before format 2 (no seal
// hash fields) as it was, with SealHash and SealHashExt empty; format 2
// round-trips them; trailing bytes are damage.
func TestDecodeFormat1(t *testing.T) {
	v := "签名值"
	op := store.Operation{GUID: "g", Type: 5, Message: "m", Title: "t", Status: 2, Stage: "confirmed",
		Value: &v, SealCompanyCode: "xx", SealCASerialID: "0A1B", Creator: "c",
		CreatedAt: time.Unix(1, 2).UTC(), UpdatedAt: time.Unix(3, 4).UTC(), ExpiresAt: time.Unix(5, 6).UTC(), Version: 7}
	// The format 1 layout, field for field as the store wrote it before.
	w := recordWriter{b: []byte{recordFormat}}
	w.int(int64(op.Type))
	w.str(op.Message)
	w.str(op.Title)
	w.int(int64(op.CertType))
	w.optStr(op.InitExtMessage)
	w.int(int64(op.Status))
	w.str(op.Stage)
	w.optStr(op.Value)
	w.optStr(op.ExtMessage)
	w.str(op.SealCompanyCode)
	w.str(op.SealCASerialID)
	w.str(op.Creator)
	w.time(op.CreatedAt)
	w.time(op.UpdatedAt)
	w.time(op.ExpiresAt)
	w.int(op.Version)
	got, err := decodeOp("g", w.b)
	if err != nil {
		t.Fatal(err)
	}
	if got.SealCASerialID != "0A1B" || got.Version != 7 || *got.Value != v || got.SealHash != "" || got.SealHashExt != "" {
		t.Fatalf("format 1 read as %+v", got)
	}
	if _, err := decodeOp("g", append(w.b, 0)); err == nil {
		t.Fatal("a format 1 record with a trailing byte was accepted")
	}

	op.SealHash, op.SealHashExt = "abcd", `{"shape":"cms","toSign":"MYIB"}`
	b, _ := encodeOp(op)
	if b[0] != opRecordFormat {
		t.Fatalf("written as format %d", b[0])
	}
	got, err = decodeOp("g", b)
	if err != nil || got.SealHash != op.SealHash || got.SealHashExt != op.SealHashExt || got.Version != 7 {
		t.Fatalf("format 2 round trip: %+v, %v", got, err)
	}
}
