package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scansign/scansign/relay/client"
)

// TestServeTLS: with --tls-cert/--tls-key the guide's endpoints answer over
// HTTPS (the guide's 接口采用 https 协议), and the QR payload's URL says https.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSignedLoopback(t)
	certPath, keyPath := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	os.WriteFile(certPath, certPEM, 0o600)
	os.WriteFile(keyPath, keyPEM, 0o600)

	srv := startServe(t, "--dev", "--data", t.TempDir(), "--tls-cert", certPath, "--tls-key", keyPath)
	// The QR codes' URL names the port actually bound, over https.
	if !strings.Contains(srv.log.String(), `"tls":true`) || !strings.Contains(srv.log.String(), `"public_url":"https://`+strings.TrimPrefix(srv.url, "http://")+`"`) {
		t.Fatalf("log:\n%s", srv.log.String())
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	c := client.New(strings.Replace(srv.url, "http://", "https://", 1), hc)
	ctx := context.Background()
	tok, err := c.GrantToken(ctx, devSystemAccount, devSystemSecret, "")
	if err != nil {
		t.Fatal(err)
	}
	// The dev seal company is this server over HTTPS: getSealImg reaches
	// it (and hears it has no seals for this serial) instead of failing
	// the TLS handshake.
	guid, err := c.InitMessage(ctx, tok, client.InitMessageRequest{Type: 5, Message: "hash"})
	if err != nil {
		t.Fatal(err)
	}
	appTok, err := c.GrantToken(ctx, devAppAccount, devAppSecret, guid)
	if err != nil {
		t.Fatal(err)
	}
	v, x := `{"signatureCompanyCode":"dev"}`, `{"caSerialId":"FFFF"}`
	if _, err := c.GetInitMessage(ctx, appTok, guid); err != nil {
		t.Fatal(err)
	}
	if err := c.SaveCaMessageResult(ctx, appTok, client.SaveRequest{GUID: guid, Status: 2, Value: &v, ExtMessage: &x}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetSealImg(ctx, tok, guid); client.Code(err) != 424 {
		t.Fatalf("getSealImg through the dev seal company over HTTPS: %v", err)
	}
}

// selfSignedLoopback is a TLS certificate and key (PEM) for 127.0.0.1.
func selfSignedLoopback(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k})
}
