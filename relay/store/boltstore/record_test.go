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
	tb, _ := encodeToken(store.Token{Account: "a", Role: "app", GUID: "g", ExpiresAt: time.Unix(3, 4)})
	f.Add(tb)
	f.Add([]byte{recordFormat, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		if op, err := decodeOp("g", b); err == nil {
			again, _ := encodeOp(op)
			if op2, err := decodeOp("g", again); err != nil || op2.Version != op.Version || op2.Message != op.Message {
				t.Fatalf("re-encoded record reads differently: %v", err)
			}
		}
		decodeToken(store.TokenHash{}, b)
	})
}
