package relay

import (
	"context"
	"testing"
	"time"

	"github.com/scansign/scansign/relay/store"
	"github.com/scansign/scansign/verify"
)

// FuzzResultsOutcome: whatever value an app saved for whatever message,
// the verdict is an answer (never a panic) and never valid from a verifier
// that trusts no one — except decrypt, which has nothing to verify.
func FuzzResultsOutcome(f *testing.F) {
	f.Add(4, "f7c54891", `{"signStr":"MIIB","pubCert":"MIIB"}`)
	f.Add(1, "m", "MIAGCSqGSIb3DQEHAqCAMIACAQEx")
	f.Add(5, "m", `{"signStr":"MEUCIQ==","signatureCompanyCode":"x","pubCert":"-----BEGIN CERTIFICATE-----"}`)
	f.Add(6, "abcd", "3082")
	f.Add(2, "m", "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA")
	rs := &Results{verifier: verify.New(nil, verify.Options{}), now: time.Now}
	f.Fuzz(func(t *testing.T, typ int, message, value string) {
		o := rs.outcome(context.Background(), store.Operation{Type: typ, Message: message, Value: &value})
		if o == nil {
			t.Fatal("no outcome")
		}
		if o.Valid && OpType(typ) != TypeDecrypt {
			t.Fatalf("valid with no trusted root: type %d value %q", typ, value)
		}
		if !o.Valid && o.Message == "" {
			t.Fatalf("invalid without a message: %+v", o)
		}
	})
}
